// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { ReactionLayer, REACTION_MS, reactionName, reactionPopover } from "./reactions";

afterEach(() => {
  document.body.replaceChildren();
  vi.useRealTimers();
});

describe("reactions", () => {
  it("floats only new reactions and removes them after a few seconds", () => {
    vi.useFakeTimers();
    const tile = document.createElement("figure");
    const announce = document.createElement("p");
    const layer = new ReactionLayer([{ key: 1, from: 2, fromName: "Bo", emoji: "👍" }], announce);
    const old = { key: 1, from: 2, fromName: "Bo", emoji: "👍" };
    layer.show([old], () => tile);
    expect(tile.querySelector(".reaction-float")).toBeNull();
    layer.show([old, { key: 2, from: 2, fromName: "Bo", emoji: "❤️" }, { key: 3, from: 9, fromName: "Off page", emoji: "🎉" }], (id) => (id === 2 ? tile : undefined));
    expect(tile.querySelectorAll(".reaction-float")).toHaveLength(1);
    expect(tile.querySelector(".reaction-float")?.getAttribute("aria-hidden")).toBe("true");
    expect(announce.textContent).toBe("Off page reacted: Celebrate");
    vi.advanceTimersByTime(REACTION_MS);
    expect(tile.querySelector(".reaction-float")).toBeNull();
  });

  it("moves through the popover with arrows and closes on Escape", () => {
    const button = document.createElement("button");
    const sent: string[] = [];
    const popover = reactionPopover(button, (e) => sent.push(e));
    document.body.append(button, popover);
    button.click();
    const items = [...popover.querySelectorAll<HTMLButtonElement>("button")];
    expect(document.activeElement).toBe(items[0]);
    items[0]?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft", bubbles: true }));
    expect(document.activeElement).toBe(items.at(-1));
    items.at(-1)?.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(popover.hidden).toBe(true);
    expect(document.activeElement).toBe(button);
    expect(sent).toEqual([]);
    expect(reactionName("✋")).toBe("Raise hand");
    expect(reactionName("🦄")).toBe("🦄");
  });
});
