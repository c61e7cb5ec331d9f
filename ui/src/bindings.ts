/**
 * The shapes of the desktop shell's commands, as `src-tauri/src` serialises
 * them. Keep in step with `commands/app.rs` and `error.rs`; once the command
 * set grows these are to be generated from the Rust types instead.
 */

/** What `app_info` returns (Rust: `commands::app::AppInfo`). */
export interface AppInfo {
  /** Product name, "Confer". */
  name: string;
  /** The desktop app's version, e.g. "0.1.0". */
  version: string;
  /** The Tauri runtime version, for bug reports. */
  tauriVersion: string;
  /** The operating system family: "linux", "macos" or "windows". */
  os: string;
}

/** Every kind of error a command can return (Rust: `error::ErrorKind`). */
export type IpcErrorKind = "internal";

/** The one error type every command rejects with (Rust: `error::Error`). */
export interface IpcError {
  kind: IpcErrorKind;
  message: string;
}

/** Whether a rejected command's value is an {@link IpcError}. */
export function isIpcError(value: unknown): value is IpcError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["kind"] === "string" && typeof v["message"] === "string";
}
