/**
 * The controls bar's icons: small stroked SVG paths drawn in the current
 * text colour (no icon font, no emoji: they look the same on every system
 * and scale with the text). Icons are decoration: each control carries
 * its words as text and as its accessible label.
 */

import { s } from "../dom";

/** Path data per icon, on a 24×24 grid. */
const PATHS = {
  mic: "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z M5 11a7 7 0 0 0 14 0 M12 18v3",
  micOff: "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z M5 11a7 7 0 0 0 14 0 M12 18v3 M4 4l16 16",
  video: "M3 7h12v10H3z M15 10l6-3v10l-6-3",
  videoOff: "M3 7h12v10H3z M15 10l6-3v10l-6-3 M3 3l18 18",
  share: "M3 4h18v12H3z M8 20h8 M12 16v4 M12 13V7 M9 10l3-3 3 3",
  react: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z M8 14s1.5 2 4 2 4-2 4-2 M9 9h.01 M15 9h.01",
  chat: "M4 5h16v11H9l-5 4z",
  people: "M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M3 20a6 6 0 0 1 12 0 M16 5a3 3 0 0 1 0 6 M21 20a6 6 0 0 0-4-5.6",
  hand: "M8 13V6a1.5 1.5 0 0 1 3 0v5 M11 11V4.5a1.5 1.5 0 0 1 3 0V11 M14 11V6a1.5 1.5 0 0 1 3 0v8a7 7 0 0 1-7 7 6 6 0 0 1-5.5-3.5L3 14a1.5 1.5 0 0 1 2.6-1.4L8 15",
  gallery: "M3 3h8v8H3z M13 3h8v8h-8z M3 13h8v8H3z M13 13h8v8h-8z",
  speaker: "M3 3h18v12H3z M3 18h5v3H3z M10 18h4v3h-4z M16 18h5v3h-5z",
  settings: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M12 2v3 M12 19v3 M4.9 4.9l2.1 2.1 M17 17l2.1 2.1 M2 12h3 M19 12h3 M4.9 19.1L7 17 M17 7l2.1-2.1",
  leave: "M10 17l5-5-5-5 M15 12H3 M14 3h7v18h-7",
  end: "M6 6l12 12 M18 6L6 18",
} as const;

/** An icon's name. */
export type IconName = keyof typeof PATHS;

/** The icon as an SVG element, hidden from assistive technology. */
export function icon(name: IconName): SVGElement {
  return s(
    "svg",
    { class: "icon", viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false", "data-icon": name },
    s("path", { d: PATHS[name] }),
  );
}
