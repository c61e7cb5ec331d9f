/**
 * Keyboard shortcuts in a meeting, as a pure mapping from a key event to
 * the action it asks for. Typing in a text field never triggers one,
 * except the modified ones (Ctrl+D works while writing a chat message).
 */

/** What a shortcut asks for. */
export type ShortcutAction =
  | "toggle_mute"
  | "toggle_video"
  | "toggle_share"
  | "toggle_hand"
  | "toggle_chat"
  | "toggle_layout"
  | "leave"
  | "push_to_talk";

/** The shortcuts, for `aria-keyshortcuts` and the help text. */
export const SHORTCUTS: Record<Exclude<ShortcutAction, "push_to_talk">, string> = {
  toggle_mute: "Control+D",
  toggle_video: "Control+E",
  toggle_share: "Control+Shift+S",
  toggle_hand: "Control+Shift+H",
  toggle_chat: "Control+Shift+C",
  toggle_layout: "Control+Shift+G",
  leave: "Control+Shift+L",
};

/** The parts of a keyboard event the mapping reads. */
export interface KeyInput {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  repeat: boolean;
  /** The event happened in a text field. */
  inTextField: boolean;
}

/** The action a key press asks for, if any. */
export function shortcutFor(e: KeyInput): ShortcutAction | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  if (mod && !e.altKey) {
    if (!e.shiftKey && key === "d") return "toggle_mute";
    if (!e.shiftKey && key === "e") return "toggle_video";
    if (e.shiftKey && key === "s") return "toggle_share";
    if (e.shiftKey && key === "h") return "toggle_hand";
    if (e.shiftKey && key === "c") return "toggle_chat";
    if (e.shiftKey && key === "g") return "toggle_layout";
    if (e.shiftKey && key === "l") return "leave";
    return null;
  }
  if (!mod && !e.altKey && key === " " && !e.inTextField && !e.repeat) return "push_to_talk";
  return null;
}

/** Whether an event target is somewhere the user types text. */
export function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["checkbox", "radio", "button", "submit"].includes(target.type);
  }
  return false;
}
