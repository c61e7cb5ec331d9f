/**
 * Which tiles show, and which one is large. Gallery view shows up to
 * {@link PAGE_SIZE} tiles a page (ourselves first); speaker view shows the
 * active speaker large above a filmstrip of the others.
 *
 * Both layouts keep the tiles in the same document order (ourselves, then
 * the others by id) and only CSS moves the large one: a video canvas that
 * moves in the document loses its picture in WebKitGTK until composited
 * again, so switching speaker must not reparent anything.
 */

import type { Participant } from "../bindings";
import { h } from "../dom";
import { type MeetingState, PAGE_SIZE, pageCount } from "../meeting_state";

/** Every word the layout controls show, in one place for translation. */
export const LAYOUT_TEXT = {
  speakerView: "Speaker view",
  galleryView: "Gallery view",
  previous: "Previous page",
  next: "Next page",
  page: (page: number, pages: number) => `Page ${page} of ${pages}`,
};

/** The tiles to draw, in document order, and the large one (speaker view). */
export interface Arrangement {
  shown: Participant[];
  /** The participant shown large; null in gallery view. */
  main: number | null;
}

/** Everyone in tile order: ourselves first, then the others by id. */
export function tileOrder(state: MeetingState): Participant[] {
  const mine = state.participants.filter((p) => p.id === state.selfId);
  const others = state.participants.filter((p) => p.id !== state.selfId);
  return [...mine, ...others];
}

/** Who speaker view shows large: the active speaker, else someone
 * sharing, else the first other person, else ourselves. */
export function mainSpeaker(state: MeetingState): number | null {
  const present = (id: number | null) => id !== null && state.participants.some((p) => p.id === id);
  if (present(state.activeSpeaker)) return state.activeSpeaker;
  const sharing = state.participants.find((p) => p.sharing);
  if (sharing !== undefined) return sharing.id;
  const other = state.participants.find((p) => p.id !== state.selfId);
  return other?.id ?? state.selfId ?? null;
}

/** The tiles for the current layout and page. */
export function arrange(state: MeetingState): Arrangement {
  const order = tileOrder(state);
  const page = Math.min(state.page, pageCount(state) - 1);
  const shown = order.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  if (state.layout === "gallery") return { shown, main: null };
  const main = mainSpeaker(state);
  const mainP = order.find((p) => p.id === main);
  // The large tile is always drawn, even when it sits on another page.
  if (mainP !== undefined && !shown.includes(mainP)) {
    return { shown: order.filter((p) => p === mainP || shown.includes(p)), main };
  }
  return { shown, main };
}

/** Columns and rows for `count` gallery tiles: the smallest near-square
 * grid, one column wider than tall when that is enough (screens are wide). */
export function gridFor(count: number): { cols: number; rows: number } {
  const n = Math.max(1, count);
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  return { cols, rows };
}

/** The paging row under the gallery: previous, "Page n of m", next. */
export function pager(go: (delta: number) => void): { element: HTMLElement; draw(state: MeetingState): void } {
  const prev = h("button", { type: "button", class: "small", id: "page-prev", "aria-label": LAYOUT_TEXT.previous }, "‹");
  const next = h("button", { type: "button", class: "small", id: "page-next", "aria-label": LAYOUT_TEXT.next }, "›");
  const label = h("span", { id: "page-label", class: "page-label" });
  prev.addEventListener("click", () => go(-1));
  next.addEventListener("click", () => go(1));
  const element = h("nav", { id: "pager", class: "pager", "aria-label": LAYOUT_TEXT.page(1, 1), hidden: true }, prev, label, next);
  return {
    element,
    draw(state) {
      const pages = pageCount(state);
      const page = Math.min(state.page, pages - 1);
      element.hidden = pages <= 1;
      label.textContent = LAYOUT_TEXT.page(page + 1, pages);
      element.setAttribute("aria-label", LAYOUT_TEXT.page(page + 1, pages));
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    },
  };
}
