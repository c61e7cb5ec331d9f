/**
 * Reactions: the controls-bar button with its popover of the emoji the
 * router accepts, and the emoji that float over a sender's tile for a few
 * seconds when a `reaction` event arrives. Each emoji has a spoken name,
 * and each reaction is announced once in words for screen readers.
 */

import { h } from "../dom";
import type { Reaction } from "../meeting_state";

/** The emoji the router accepts, with their names (for labels and
 * translation). */
export const REACTIONS: ReadonlyArray<readonly [emoji: string, name: string]> = [
  ["👍", "Thumbs up"],
  ["👏", "Clap"],
  ["😂", "Laugh"],
  ["😮", "Surprised"],
  ["❤️", "Heart"],
  ["🎉", "Celebrate"],
  ["✋", "Raise hand"],
];

/** Every word the reactions show, in one place for translation. */
export const REACTION_TEXT = {
  button: "React",
  menu: "Reactions",
  send: (name: string) => `React with ${name}`,
  announce: (who: string, name: string) => `${who} reacted: ${name}`,
};

/** How long a reaction floats over a tile. */
export const REACTION_MS = 3000;

/** The name of an emoji from {@link REACTIONS}, or the emoji itself. */
export function reactionName(emoji: string): string {
  return REACTIONS.find(([e]) => e === emoji)?.[1] ?? emoji;
}

/** The popover of reaction buttons, opened by `button`. */
export function reactionPopover(button: HTMLButtonElement, react: (emoji: string) => void): HTMLElement {
  const popover = h("div", { id: "reaction-popover", class: "reaction-popover", role: "group", "aria-label": REACTION_TEXT.menu, hidden: true });
  button.setAttribute("aria-haspopup", "true");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "reaction-popover");
  const setOpen = (open: boolean) => {
    popover.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) popover.querySelector<HTMLButtonElement>("button")?.focus();
  };
  for (const [emoji, name] of REACTIONS) {
    const b = h("button", { type: "button", class: "reaction-choice", "data-emoji": emoji, "aria-label": REACTION_TEXT.send(name), title: name }, emoji);
    b.addEventListener("click", () => {
      react(emoji);
      setOpen(false);
      button.focus();
    });
    popover.append(b);
  }
  button.addEventListener("click", () => setOpen(popover.hidden));
  popover.addEventListener("keydown", (e) => {
    const items = [...popover.querySelectorAll<HTMLButtonElement>("button")];
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      button.focus();
    } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      const step = e.key === "ArrowRight" ? 1 : -1;
      items[(at + step + items.length) % items.length]?.focus();
    }
  });
  // Closing when focus leaves keeps a forgotten popover from covering tiles.
  popover.addEventListener("focusout", (e) => {
    const next = e.relatedTarget;
    if (next instanceof Node && (popover.contains(next) || next === button)) return;
    if (next !== null) setOpen(false);
  });
  return popover;
}

/** Floats new reactions over tiles and announces them. Reactions already
 * in the state when it starts are not replayed. */
export class ReactionLayer {
  private lastKey: number;

  /** `announce` is a polite live region for the spoken version. */
  constructor(
    existing: Reaction[],
    private readonly announce: HTMLElement,
  ) {
    this.lastKey = existing.at(-1)?.key ?? 0;
  }

  /** Shows the reactions newer than the last call; `tileFor` finds the
   * sender's tile (none when they are off the page). */
  show(reactions: Reaction[], tileFor: (participant: number) => HTMLElement | undefined): void {
    for (const r of reactions) {
      if (r.key <= this.lastKey) continue;
      this.lastKey = r.key;
      const name = reactionName(r.emoji);
      this.announce.textContent = REACTION_TEXT.announce(r.fromName, name);
      const tile = tileFor(r.from);
      if (tile === undefined) continue;
      const float = h("span", { class: "reaction-float", "aria-hidden": "true", "data-key": String(r.key) }, r.emoji);
      tile.append(float);
      setTimeout(() => float.remove(), REACTION_MS);
    }
  }
}
