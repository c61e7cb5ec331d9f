// @vitest-environment happy-dom
import type { Channel } from "@tauri-apps/api/core";
import { afterEach, describe, expect, it } from "vitest";
import type { AuthState, MeetingUpdate } from "./bindings";
import { startApp } from "./app";
import type { Shell } from "./ipc";

const signedOut: AuthState = { serverUrl: "https://127.0.0.1:8443", email: null, remembered: false };

function fakeShell(answers: Record<string, (args: Record<string, unknown> | undefined) => unknown>) {
  const calls: Array<[string, Record<string, unknown> | undefined]> = [];
  let emit: (u: MeetingUpdate) => void = () => {};
  const shell: Shell = {
    isTauri: () => true,
    invoke: async <T>(command: string, args?: Record<string, unknown>) => {
      calls.push([command, args]);
      const answer = answers[command];
      if (answer === undefined) throw { kind: "internal", message: `no ${command}` };
      return answer(args) as T;
    },
    channel: <T>() => ({ id: 1 }) as unknown as Channel<T>,
    listen: async <T>(_event: string, handler: (payload: T) => void) => {
      emit = handler as (u: MeetingUpdate) => void;
      return () => {};
    },
  };
  return { shell, calls, emit: (u: MeetingUpdate) => emit(u) };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
afterEach(() => document.body.replaceChildren());

describe("app", () => {
  it("signs in, lists meetings, joins one and follows its events", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const fake = fakeShell({
      app_info: () => ({ name: "Confer", version: "0.1.0", tauriVersion: "2", os: "linux" }),
      auth_state: () => signedOut,
      sign_in: () => ({ ...signedOut, email: "ada@example.com", remembered: true }),
      list_meetings: () => [],
      join_meeting: () => null,
    });
    const app = startApp(root, fake.shell);
    await app.ready;
    expect(app.screen()).toBe("start");

    const email = root.querySelector<HTMLInputElement>("#sign-in-email");
    const password = root.querySelector<HTMLInputElement>("#sign-in-password");
    if (email === null || password === null) throw new Error("no sign-in form");
    email.value = "ada@example.com";
    password.value = "pw";
    root.querySelector("#sign-in")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    expect(app.screen()).toBe("home");
    expect(root.querySelector("#account-email")?.textContent).toBe("ada@example.com");

    const box = root.querySelector<HTMLInputElement>("#home-join-meeting");
    if (box === null) throw new Error("no join box");
    box.value = "482 193 765";
    root.querySelector("#home-join")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    expect(app.screen()).toBe("meeting");
    expect(fake.calls.find(([c]) => c === "join_meeting")?.[1]).toMatchObject({
      request: { meeting: "482 193 765", displayName: null, passcode: null },
    });
    fake.emit({ type: "joined", meetingId: 482193765, selfId: 1, encryption: "transport", participants: [] });
    expect(app.meeting.get().phase).toBe("joined");
  });

  it("shows a refused join in plain words and stays on the screen", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const fake = fakeShell({
      app_info: () => ({ name: "Confer", version: "0.1.0", tauriVersion: "2", os: "linux" }),
      auth_state: () => signedOut,
      join_meeting: () => Promise.reject({ kind: "refused", message: "no such meeting" }),
    });
    const app = startApp(root, fake.shell);
    await app.ready;
    const id = root.querySelector<HTMLInputElement>("#join-meeting-id");
    const name = root.querySelector<HTMLInputElement>("#join-name");
    if (id === null || name === null) throw new Error("no join form");
    id.value = "482193765";
    name.value = "Guest";
    root.querySelector("#join")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    await flush();
    expect(app.screen()).toBe("start");
    expect(root.querySelector("#join-status")?.textContent).toBe("No such meeting.");
  });
});
