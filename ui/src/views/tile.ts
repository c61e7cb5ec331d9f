/**
 * One participant's tile in the gallery: avatar (or video, when frames
 * arrive), name, role, and the roster's markers (muted, hand, guest,
 * external, recording, sharing). Every marker has a text label for screen
 * readers; colour is never the only signal.
 */

import type { Participant } from "../bindings";
import { h } from "../dom";
import { initials } from "../meeting_state";

/** Words for a role marker, or null for plain participants. */
export function roleLabel(p: Participant): string | null {
  if (p.role === "host") return "Host";
  if (p.role === "co_host") return "Co-host";
  return null;
}

/** The markers a tile shows, as [class, label] pairs. */
export function markers(p: Participant): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (p.muted) out.push(["muted", "Muted"]);
  if (p.handRaised) out.push(["hand", "Hand raised"]);
  if (p.recording) out.push(["recording", "Recording"]);
  if (p.sharing) out.push(["sharing", "Sharing screen"]);
  if (p.guest) out.push(["guest", "Guest"]);
  if (p.external) out.push(["external", "External"]);
  return out;
}

/** Words a tile adds for the speaking indicator. */
export const TILE_TEXT = { speaking: "Speaking" };

/** Three bars that move while someone speaks (decoration: the tile's
 * label says "Speaking" in words). */
function speakingBars(): HTMLElement {
  return h("span", { class: "speaking-bars", "aria-hidden": "true" }, h("i"), h("i"), h("i"));
}

/** A tile for `p`; `isSelf` adds "(you)". `video` is the participant's
 * canvas, kept across redraws (see `video_wall.ts`); with `withVideo`
 * false it only decides the tile's class and the caller places it.
 * `speaking` highlights the tile and shows the speaking indicator. */
export function tile(p: Participant, isSelf: boolean, video?: HTMLCanvasElement, withVideo = true, speaking = false): HTMLElement {
  const role = roleLabel(p);
  const name = isSelf ? `${p.name} (you)` : p.name;
  const label = [name, role, speaking ? TILE_TEXT.speaking : null, ...markers(p).map(([, l]) => l)].filter(Boolean).join(", ");
  const badges = h("ul", { class: "tile-markers" });
  for (const [cls, text] of markers(p)) badges.append(h("li", { class: `marker ${cls}` }, text));
  return h(
    "figure",
    {
      class: `tile${isSelf ? " self" : ""}${p.handRaised ? " hand-up" : ""}${speaking ? " speaking" : ""}${video !== undefined && !video.hidden ? " has-video" : ""}`,
      "data-participant-id": String(p.id),
      "aria-label": label,
    },
    h("div", { class: "avatar", "aria-hidden": "true" }, initials(p.name)),
    withVideo && video !== undefined ? video : "",
    h(
      "figcaption",
      { class: "tile-caption" },
      speaking ? speakingBars() : "",
      h("span", { class: "tile-name" }, name),
      role === null ? "" : h("span", { class: "tile-role" }, role),
    ),
    badges,
  );
}
