/**
 * Calls into the desktop shell. The UI also runs in a plain browser
 * (`npm run dev`, tests), where there is no shell to call: every function
 * here says so in its result instead of throwing.
 */

import { invoke as tauriInvoke, isTauri as tauriPresent } from "@tauri-apps/api/core";
import { type AppInfo, isIpcError } from "./bindings";

/** What the start screen knows about the app it runs in. */
export type AppInfoState =
  | { status: "loading" }
  | { status: "ready"; info: AppInfo }
  /** Not inside the desktop shell: a browser preview. */
  | { status: "browser" }
  | { status: "failed"; message: string };

/** The two Tauri functions used here, replaceable in tests. */
export interface Shell {
  isTauri(): boolean;
  invoke<T>(command: string, args?: Record<string, unknown>): Promise<T>;
}

/** The real shell, from `@tauri-apps/api`. */
export const tauriShell: Shell = {
  isTauri: tauriPresent,
  invoke: (command, args) => tauriInvoke(command, args),
};

/** Asks the shell for the app's name and version (command `app_info`). */
export async function loadAppInfo(shell: Shell = tauriShell): Promise<AppInfoState> {
  if (!shell.isTauri()) return { status: "browser" };
  try {
    const info = await shell.invoke<AppInfo>("app_info");
    return { status: "ready", info };
  } catch (err) {
    return { status: "failed", message: describeError(err) };
  }
}

/** A readable message for whatever a command rejected with. */
export function describeError(err: unknown): string {
  if (isIpcError(err)) return err.message;
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  return "unknown error";
}
