// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ShareSource } from "../bindings";
import { openSharePicker, safeThumbnail } from "./share_picker";

const PNG = "data:image/png;base64,iVBORw0KGgo=";
const sources: ShareSource[] = [
  { id: "screen:0", name: "Screen 1", kind: "screen", thumbnail: PNG },
  { id: "window:7", name: "Editor", kind: "window", thumbnail: null },
  { id: "window:8", name: "Evil", kind: "window", thumbnail: "https://example.com/x.png" },
];

const flush = () => new Promise((r) => setTimeout(r, 0));
afterEach(() => document.body.replaceChildren());

function open(choose: (id: string) => Promise<string | null> = async () => null) {
  const host = document.createElement("div");
  document.body.append(host);
  const opener = document.createElement("button");
  host.append(opener);
  opener.focus();
  const actions = { sources: vi.fn(async () => sources), choose: vi.fn(choose) };
  const done = openSharePicker(host, actions);
  return { host, opener, actions, done };
}

describe("share picker", () => {
  it("lists screens and windows with thumbnails and labels, and shares the chosen one", async () => {
    const { host, actions, done } = open();
    const dialog = host.querySelector<HTMLElement>('[role="dialog"]');
    expect(dialog?.getAttribute("aria-modal")).toBe("true");
    expect(dialog?.getAttribute("aria-labelledby")).toBe("share-title");
    await flush();
    const cards = [...host.querySelectorAll<HTMLButtonElement>(".share-source")];
    expect(cards.map((c) => c.getAttribute("aria-label"))).toEqual(["Share screen: Screen 1", "Share window: Editor", "Share window: Evil"]);
    expect(cards[0]?.querySelector("img")?.getAttribute("src")).toBe(PNG);
    // No thumbnail, or one that is not inline image data: a placeholder.
    expect(cards[1]?.querySelector("img")).toBeNull();
    expect(cards[2]?.querySelector("img")).toBeNull();
    expect(document.activeElement).toBe(cards[0]);
    cards[1]?.click();
    expect(actions.choose).toHaveBeenCalledWith("window:7");
    expect(await done).toBe(true);
    expect(host.querySelector('[role="dialog"]')).toBeNull();
  });

  it("shows a refusal and stays open", async () => {
    const { host } = open(async () => "Screen capture is not allowed.");
    await flush();
    host.querySelector<HTMLButtonElement>(".share-source")?.click();
    await flush();
    expect(host.querySelector("#share-status")?.textContent).toBe("Screen capture is not allowed.");
    expect(host.querySelector<HTMLButtonElement>(".share-source")?.disabled).toBe(false);
  });

  it("closes on Escape, keeps Tab inside, and gives focus back", async () => {
    const { host, opener, actions, done } = open();
    await flush();
    const dialog = host.querySelector<HTMLElement>('[role="dialog"]');
    const cancel = host.querySelector<HTMLButtonElement>("#share-cancel");
    const first = host.querySelector<HTMLButtonElement>(".share-source");
    cancel?.focus();
    const tab = new KeyboardEvent("keydown", { key: "Tab", bubbles: true, cancelable: true });
    cancel?.dispatchEvent(tab);
    expect(tab.defaultPrevented).toBe(true);
    expect(document.activeElement).toBe(first);
    const back = new KeyboardEvent("keydown", { key: "Tab", shiftKey: true, bubbles: true, cancelable: true });
    first?.dispatchEvent(back);
    expect(document.activeElement).toBe(cancel);
    dialog?.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(await done).toBe(false);
    expect(actions.choose).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(opener);
  });

  it("accepts only inline image thumbnails", () => {
    expect(safeThumbnail(PNG)).toBe(PNG);
    expect(safeThumbnail("data:image/svg+xml;base64,PHN2Zz4=")).toBeNull();
    expect(safeThumbnail("javascript:alert(1)")).toBeNull();
    expect(safeThumbnail(null)).toBeNull();
  });
});
