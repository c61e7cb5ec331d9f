/**
 * Calls into the desktop shell. The UI also runs in a plain browser
 * (`npm run dev`, tests), where there is no shell to call: every function
 * here says so in its result instead of throwing.
 *
 * Command names, arguments and results are typed by the generated
 * `Commands` table in `bindings.ts`, so a call that does not match the Rust
 * side fails the typecheck.
 */

import { Channel, invoke as tauriInvoke, isTauri as tauriPresent } from "@tauri-apps/api/core";
import { listen as tauriListen } from "@tauri-apps/api/event";
import type { AppInfo, Commands, IpcError, MeetingUpdate } from "./bindings";
import { LAUNCH_LINK_EVENT, MEETING_EVENT, PREVIEW_LEVEL_EVENT } from "./bindings";

/** What the start screen knows about the app it runs in. */
export type AppInfoState =
  | { status: "loading" }
  | { status: "ready"; info: AppInfo }
  /** Not inside the desktop shell: a browser preview. */
  | { status: "browser" }
  | { status: "failed"; message: string };

/** The Tauri functions used here, replaceable in tests. */
export interface Shell {
  isTauri(): boolean;
  invoke<T>(command: string, args?: Record<string, unknown>): Promise<T>;
  /** Watches a shell event; resolves to the function that stops watching. */
  listen?<T>(event: string, handler: (payload: T) => void): Promise<() => void>;
  /** Opens a channel the shell streams messages on (binary ones arrive as ArrayBuffer). */
  channel?<T>(onmessage: (message: T) => void): Channel<T>;
}

/** The real shell, from `@tauri-apps/api`. */
export const tauriShell: Shell = {
  isTauri: tauriPresent,
  invoke: (command, args) => tauriInvoke(command, args),
  listen: (event, handler) => tauriListen(event, (e) => handler(e.payload as never)),
  channel: <T>(onmessage: (message: T) => void) => {
    const channel = new Channel<T>();
    channel.onmessage = onmessage;
    return channel;
  },
};

/** Calls one command with arguments and result typed from the Rust side. */
export function call<K extends keyof Commands>(
  shell: Shell,
  name: K,
  args: Commands[K]["args"],
): Promise<Commands[K]["result"]> {
  if (!shell.isTauri()) {
    return Promise.reject<Commands[K]["result"]>({
      kind: "internal",
      message: "this needs the desktop app (browser preview)",
    } satisfies IpcError);
  }
  return shell.invoke<Commands[K]["result"]>(name, args as Record<string, unknown>);
}

/** Watches the shell's meeting events (nothing happens in a browser). */
export async function onMeetingUpdate(
  shell: Shell,
  handler: (update: MeetingUpdate) => void,
): Promise<() => void> {
  if (!shell.isTauri() || shell.listen === undefined) return () => {};
  return shell.listen<MeetingUpdate>(MEETING_EVENT, handler);
}

/** Watches the preview microphone's level while the pre-join screen shows
 * (nothing happens in a browser). A malformed payload reads as silence. */
export async function onPreviewLevel(shell: Shell, handler: (level: number) => void): Promise<() => void> {
  if (!shell.isTauri() || shell.listen === undefined) return () => {};
  return shell.listen<{ level?: unknown }>(PREVIEW_LEVEL_EVENT, (payload) => {
    const level = typeof payload?.level === "number" && Number.isFinite(payload.level) ? payload.level : 0;
    handler(Math.min(1, Math.max(0, level)));
  });
}

/** Watches for `confer://join/...` links handed to the running app; the
 * handler then takes the link with `take_launch_link` (the event carries
 * nothing: the shell keeps the link until it is taken). Nothing happens in
 * a browser. */
export async function onLaunchLink(shell: Shell, handler: () => void): Promise<() => void> {
  if (!shell.isTauri() || shell.listen === undefined) return () => {};
  return shell.listen<unknown>(LAUNCH_LINK_EVENT, () => handler());
}

/** Asks the shell for the app's name and version (command `app_info`). */
export async function loadAppInfo(shell: Shell = tauriShell): Promise<AppInfoState> {
  if (!shell.isTauri()) return { status: "browser" };
  try {
    const info = await call(shell, "app_info", {});
    return { status: "ready", info };
  } catch (err) {
    return { status: "failed", message: describeError(err) };
  }
}

/** Whether a rejected command's value is an {@link IpcError}. */
export function isIpcError(value: unknown): value is IpcError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["kind"] === "string" && typeof v["message"] === "string";
}

/** A readable sentence for whatever a command rejected with. */
export function describeError(err: unknown): string {
  let text: string;
  if (isIpcError(err)) text = err.message;
  else if (err instanceof Error) text = err.message;
  else if (typeof err === "string") text = err;
  else text = "something went wrong";
  return sentence(text);
}

/** Capitalises the first letter and ends with a full stop. */
export function sentence(text: string): string {
  const t = text.trim();
  if (t === "") return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}
