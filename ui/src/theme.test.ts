// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { applyTheme, loadTheme, nextTheme } from "./theme";

describe("theme", () => {
  it("remembers a choice and applies it to the document", () => {
    const kept = new Map<string, string>();
    const storage = { getItem: (k: string) => kept.get(k) ?? null, setItem: (k: string, v: string) => void kept.set(k, v) };
    expect(loadTheme(storage)).toBe("system");
    applyTheme("dark", document.documentElement, storage);
    expect(document.documentElement.dataset["theme"]).toBe("dark");
    expect(loadTheme(storage)).toBe("dark");
    applyTheme("system", document.documentElement, storage);
    expect(document.documentElement.dataset["theme"]).toBeUndefined();
  });

  it("cycles system → dark → light → system", () => {
    expect([nextTheme("system"), nextTheme("dark"), nextTheme("light")]).toEqual(["dark", "light", "system"]);
  });
});
