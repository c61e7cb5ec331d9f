import { describe, expect, it } from "vitest";
import type { AppInfo } from "./bindings";
import { PREVIEW_LEVEL_EVENT } from "./bindings";
import { call, describeError, type Shell, loadAppInfo, onPreviewLevel } from "./ipc";

const info: AppInfo = { name: "Confer", version: "0.1.0", tauriVersion: "2.12.5", os: "linux", compositing: "software" };

function fakeShell(present: boolean, answer: () => Promise<unknown>): Shell & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    isTauri: () => present,
    invoke: <T>(command: string) => {
      calls.push(command);
      return answer() as Promise<T>;
    },
  };
}

describe("loadAppInfo", () => {
  it("reports a browser preview without calling the shell", async () => {
    const shell = fakeShell(false, () => Promise.resolve(info));
    expect(await loadAppInfo(shell)).toEqual({ status: "browser" });
    expect(shell.calls).toEqual([]);
  });

  it("returns what app_info answers inside the shell", async () => {
    const shell = fakeShell(true, () => Promise.resolve(info));
    expect(await loadAppInfo(shell)).toEqual({ status: "ready", info });
    expect(shell.calls).toEqual(["app_info"]);
  });

  it("turns the shell's typed error into a message", async () => {
    const shell = fakeShell(true, () => Promise.reject({ kind: "internal", message: "boom" }));
    expect(await loadAppInfo(shell)).toEqual({ status: "failed", message: "Boom." });
  });

  it("works in a real runtime without Tauri globals", async () => {
    // No `window.__TAURI_INTERNALS__` under Node: the default shell must say "browser".
    expect(await loadAppInfo()).toEqual({ status: "browser" });
  });
});

describe("describeError", () => {
  it("turns any rejection into a sentence", () => {
    expect(describeError({ kind: "refused", message: "no such meeting" })).toBe("No such meeting.");
    expect(describeError(new Error("Done!"))).toBe("Done!");
    expect(describeError(42)).toBe("Something went wrong.");
  });
});

describe("call", () => {
  it("refuses in a browser instead of calling", async () => {
    const shell = fakeShell(false, () => Promise.resolve(null));
    await expect(call(shell, "leave_meeting", {})).rejects.toMatchObject({ kind: "internal" });
    expect(shell.calls).toEqual([]);
  });
});

describe("onPreviewLevel", () => {
  it("passes levels on, clamped, and reads malformed payloads as silence", async () => {
    let emit: (payload: unknown) => void = () => {};
    const events: string[] = [];
    const shell: Shell = {
      isTauri: () => true,
      invoke: () => Promise.reject(new Error("unused")),
      listen: async <T>(event: string, handler: (payload: T) => void) => {
        events.push(event);
        emit = handler as (payload: unknown) => void;
        return () => {};
      },
    };
    const levels: number[] = [];
    await onPreviewLevel(shell, (l) => levels.push(l));
    for (const payload of [{ level: 0.5 }, { level: 7 }, { level: "loud" }, null, { level: Number.NaN }]) emit(payload);
    expect(events).toEqual([PREVIEW_LEVEL_EVENT]);
    expect(levels).toEqual([0.5, 1, 0, 0, 0]);
  });

  it("does nothing in a browser", async () => {
    const stop = await onPreviewLevel(fakeShell(false, () => Promise.resolve(null)), () => {});
    expect(typeof stop).toBe("function");
  });
});
