/**
 * Which simulcast layer of each participant's camera to receive, from the
 * size their tile is shown at: a gallery tile needs a quarter of the
 * pixels of the speaker, and every pixel not received is one not decoded
 * and not kept in memory.
 */

/** A camera layer, as the shell names it (`set_video_layer`). */
export type VideoLayer = "low" | "medium" | "high";

/** The layer for a tile `shownWidth` CSS pixels wide: 320×180 up to 400
 * device pixels, 640×360 up to 800, else the largest. Unknown (0: not
 * laid out) is "medium", the size senders send by default. */
export function layerFor(shownWidth: number, pixelRatio = 1): VideoLayer {
  const width = shownWidth * pixelRatio;
  if (width <= 0) return "medium";
  if (width <= 400) return "low";
  if (width <= 800) return "medium";
  return "high";
}

/** Remembers what was asked per participant so each change is asked for
 * once. */
export class LayerChooser {
  private readonly asked = new Map<number, VideoLayer>();

  /** The layer to ask for `participant` now, or null when it is already
   * what was asked. */
  choose(participant: number, layer: VideoLayer): VideoLayer | null {
    if (this.asked.get(participant) === layer) return null;
    this.asked.set(participant, layer);
    return layer;
  }

  /** Forgets everyone (a new meeting). */
  clear(): void {
    this.asked.clear();
  }

  /** Forgets everyone not in `present` (people who left): a long meeting
   * with many comings and goings keeps no entry per departed person, and
   * an id the server hands out again is asked for afresh. */
  retain(present: Iterable<number>): void {
    const keep = new Set(present);
    for (const id of [...this.asked.keys()]) if (!keep.has(id)) this.asked.delete(id);
  }

  /** How many participants have a layer asked for (tests, diagnostics). */
  get size(): number {
    return this.asked.size;
  }
}
