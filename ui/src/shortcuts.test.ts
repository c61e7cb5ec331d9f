import { describe, expect, it } from "vitest";
import { type KeyInput, shortcutFor } from "./shortcuts";

const key = (k: string, extra: Partial<KeyInput> = {}): KeyInput => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  repeat: false,
  inTextField: false,
  ...extra,
});

describe("shortcutFor", () => {
  it("maps Ctrl+D and Ctrl+E, even while typing", () => {
    expect(shortcutFor(key("d", { ctrlKey: true }))).toBe("toggle_mute");
    expect(shortcutFor(key("E", { metaKey: true, inTextField: true }))).toBe("toggle_video");
    expect(shortcutFor(key("l", { ctrlKey: true, shiftKey: true }))).toBe("leave");
    expect(shortcutFor(key("G", { ctrlKey: true, shiftKey: true }))).toBe("toggle_layout");
    expect(shortcutFor(key("g", { ctrlKey: true }))).toBeNull();
  });

  it("talks on space only outside text fields and not on repeats", () => {
    expect(shortcutFor(key(" "))).toBe("push_to_talk");
    expect(shortcutFor(key(" ", { inTextField: true }))).toBeNull();
    expect(shortcutFor(key(" ", { repeat: true }))).toBeNull();
  });

  it("ignores plain letters and Alt chords", () => {
    expect(shortcutFor(key("d"))).toBeNull();
    expect(shortcutFor(key("d", { ctrlKey: true, altKey: true }))).toBeNull();
  });
});
