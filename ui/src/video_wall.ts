/**
 * Draws decoded camera pictures on the tiles' canvases. Pictures arrive
 * from the shell as raw bytes on an IPC channel (no JSON): each message
 * holds one or more pictures back to back, each a 16-byte header
 * (participant, width, height, timestamp as little-endian u32) and the
 * I420 planes (Rust: `src-tauri/src/video.rs`).
 *
 * Pictures are not drawn as they arrive: each tile keeps only its latest
 * undrawn picture and all tiles paint together on the next animation
 * frame, so a burst of messages costs one upload per tile per display
 * refresh and a picture that a newer one replaced is counted as dropped.
 * Drawing is WebGL where the webview has it (`gl_renderer.ts`).
 *
 * The canvases live here, one per participant, so a tile redrawn by the
 * meeting view keeps showing the last picture.
 */

import { Channel, invoke } from "@tauri-apps/api/core";
import { createRenderer, type Frame, type Renderer, type RendererKind, type RendererPreference } from "./gl_renderer";

export { i420ToRgba } from "./gl_renderer";

/** Bytes before each picture's planes (Rust: `video::HEADER_LEN`). */
export const HEADER_LEN = 16;

/** One unpacked picture. */
export interface Picture extends Frame {
  participant: number;
  timestamp: number;
}

/** Reads the picture at `offset`; null when it is malformed. Its length is
 * `HEADER_LEN` plus the planes the header's size implies. */
function unpackAt(buffer: ArrayBuffer, offset: number): Picture | null {
  if (buffer.byteLength - offset < HEADER_LEN) return null;
  const view = new DataView(buffer, offset);
  const participant = view.getUint32(0, true);
  const width = view.getUint32(4, true);
  const height = view.getUint32(8, true);
  const timestamp = view.getUint32(12, true);
  const luma = width * height;
  const chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  if (width === 0 || height === 0 || buffer.byteLength - offset < HEADER_LEN + luma + 2 * chroma) return null;
  const planes = offset + HEADER_LEN;
  return {
    participant,
    width,
    height,
    timestamp,
    y: new Uint8Array(buffer, planes, luma),
    u: new Uint8Array(buffer, planes + luma, chroma),
    v: new Uint8Array(buffer, planes + luma + chroma, chroma),
  };
}

/** Bytes `p` takes in a message. */
const packedLength = (p: Picture) => HEADER_LEN + p.y.length + p.u.length + p.v.length;

/** Reads a message that holds exactly one picture; null when malformed. */
export function unpack(buffer: ArrayBuffer): Picture | null {
  const picture = unpackAt(buffer, 0);
  return picture !== null && packedLength(picture) === buffer.byteLength ? picture : null;
}

/** Reads every picture of a message; null when any part is malformed
 * (then none is drawn: a message cut short is not trusted in part). */
export function unpackAll(buffer: ArrayBuffer): Picture[] | null {
  const pictures: Picture[] = [];
  let offset = 0;
  while (offset < buffer.byteLength) {
    const picture = unpackAt(buffer, offset);
    if (picture === null) return null;
    pictures.push(picture);
    offset += packedLength(picture);
  }
  return pictures.length === 0 ? null : pictures;
}

/**
 * Latest-wins scheduling of pictures per tile, without timers or DOM:
 * `offer` a picture as it arrives (true means "ask for a paint"), and on
 * the paint `take` what is pending. A picture replaced before its paint
 * counts as dropped for its tile.
 */
export class LatestFrames<T> {
  private pending = new Map<number, T>();
  private requested = false;
  /** Pictures replaced before they were painted, per tile. */
  readonly dropped = new Map<number, number>();

  /** Keeps `frame` as `id`'s next picture; true when the caller must
   * request a paint (none is outstanding). */
  offer(id: number, frame: T): boolean {
    if (this.pending.has(id)) this.dropped.set(id, (this.dropped.get(id) ?? 0) + 1);
    this.pending.set(id, frame);
    if (this.requested) return false;
    this.requested = true;
    return true;
  }

  /** The pictures to paint now, one per tile, and forgets them. */
  take(): [number, T][] {
    const due = [...this.pending];
    this.pending = new Map();
    this.requested = false;
    return due;
  }

  /** Forgets pending pictures and counters. */
  clear(): void {
    this.pending.clear();
    this.requested = false;
    this.dropped.clear();
  }
}

/** How the wall draws: a renderer preference, or "none" to receive and
 * count pictures without drawing (isolates IPC cost in the benchmark). */
export type WallMode = RendererPreference | "none";

/** One participant's canvas and what draws on it. */
interface Tile {
  canvas: HTMLCanvasElement;
  renderer: Renderer | null;
  /** A WebGL context on this tile was lost: stay on 2D. */
  lost: boolean;
}

/** Where time went in the page, in milliseconds (diagnostics). */
interface Timing {
  unpackMs: number;
  drawMs: number;
  paints: number;
}

/** Options of the synthetic benchmark (`bench_frames` in the shell, built
 * only with the `bench-frames` feature). */
export interface SyntheticOptions {
  tiles: number;
  fps: number;
  seconds: number;
  /** Batch pictures per display tick in the shell (the shipped path). */
  batch: boolean;
  mode: WallMode;
}

/** The canvases and what was last drawn on them. The page exposes the
 * app's wall as `window.__conferStats` for the benchmark. */
export class VideoWall {
  private readonly tiles = new Map<number, Tile>();
  private readonly frames = new LatestFrames<Picture>();
  /** Pictures painted per participant, for tests and the frame counter. */
  readonly drawn = new Map<number, number>();
  /** Messages received, and how many of them were malformed. */
  received = 0;
  malformed = 0;
  /** Pictures received (a message may hold several). */
  pictures = 0;
  /** How tiles are drawn; read when a tile's renderer is created. */
  mode: WallMode = "auto";
  private timing: Timing = { unpackMs: 0, drawMs: 0, paints: 0 };

  /** `requestFrame` schedules the paint (the browser's
   * `requestAnimationFrame`; tests pass their own). */
  constructor(
    private readonly requestFrame: (paint: () => void) => void = (paint) => {
      requestAnimationFrame(() => paint());
    },
  ) {}

  private tile(participant: number): Tile {
    let tile = this.tiles.get(participant);
    if (tile === undefined) {
      tile = { canvas: newCanvas(participant), renderer: null, lost: false };
      this.tiles.set(participant, tile);
    }
    return tile;
  }

  /** The participant's canvas (hidden until a picture arrives). */
  canvasFor(participant: number): HTMLCanvasElement {
    return this.tile(participant).canvas;
  }

  /** Takes one channel message; malformed ones are ignored. Pictures are
   * drawn on the next animation frame, latest per tile. */
  handle(buffer: ArrayBuffer): void {
    this.received += 1;
    const start = performance.now();
    const pictures = buffer instanceof ArrayBuffer ? unpackAll(buffer) : null;
    this.timing.unpackMs += performance.now() - start;
    if (pictures === null) {
      this.malformed += 1;
      return;
    }
    this.pictures += pictures.length;
    if (this.mode === "none") return;
    let request = false;
    for (const picture of pictures) request = this.frames.offer(picture.participant, picture) || request;
    if (request) this.requestFrame(() => this.paint());
  }

  /** Draws every tile's latest picture (the animation-frame callback). */
  paint(): void {
    const start = performance.now();
    for (const [participant, picture] of this.frames.take()) {
      if (this.drawOn(this.tile(participant), picture)) {
        this.drawn.set(participant, (this.drawn.get(participant) ?? 0) + 1);
      }
    }
    this.timing.drawMs += performance.now() - start;
    this.timing.paints += 1;
  }

  private drawOn(tile: Tile, picture: Picture): boolean {
    tile.renderer ??= createRenderer(tile.canvas, this.mode === "2d" ? "2d" : "auto", tile.lost);
    if (!tile.renderer.draw(picture)) {
      if (tile.lost) return false;
      // Context lost (or WebGL set up but unusable): a canvas that had a
      // WebGL context cannot give a 2D one, so swap in a fresh canvas.
      const fresh = newCanvas(picture.participant);
      tile.canvas.replaceWith(fresh);
      tile.canvas = fresh;
      tile.lost = true;
      tile.renderer = createRenderer(fresh, "2d", true);
      if (!tile.renderer.draw(picture)) return false;
    }
    tile.canvas.hidden = false;
    tile.canvas.closest(".tile")?.classList.add("has-video");
    return true;
  }

  /** Pictures painted and dropped so far per participant id, the message
   * counters, each tile's renderer and where the page's time went: what
   * `window.__conferStats.stats()` returns, so a benchmark can count
   * frames painted per tile over an interval. */
  stats(): {
    drawn: Record<string, number>;
    dropped: Record<string, number>;
    received: number;
    malformed: number;
    pictures: number;
    renderers: Record<string, RendererKind | null>;
    timing: Timing;
  } {
    const renderers: Record<string, RendererKind | null> = {};
    for (const [id, tile] of this.tiles) renderers[id] = tile.renderer?.kind ?? null;
    return {
      drawn: Object.fromEntries(this.drawn),
      dropped: Object.fromEntries(this.frames.dropped),
      received: this.received,
      malformed: this.malformed,
      pictures: this.pictures,
      renderers,
      timing: { ...this.timing },
    };
  }

  /** "received/malformed" counters, for diagnostics. */
  counters(): string {
    return `${this.received}/${this.malformed}`;
  }

  /** Forgets everyone (the meeting ended). */
  clear(): void {
    this.received = 0;
    this.malformed = 0;
    this.pictures = 0;
    this.tiles.clear();
    this.frames.clear();
    this.drawn.clear();
    this.timing = { unpackMs: 0, drawMs: 0, paints: 0 };
  }

  /**
   * Benchmark only: asks the shell for synthetic moving tiles (its
   * `bench_frames` command, absent from shipped builds) and shows their
   * canvases in a grid over the page, isolating drawing from network and
   * decoders. Resolves once the pictures start flowing.
   */
  async startSynthetic(options: SyntheticOptions): Promise<void> {
    this.clear();
    this.mode = options.mode;
    const grid = document.createElement("div");
    grid.id = "bench-wall";
    grid.style.cssText =
      "position:fixed;inset:0;z-index:1000;background:#000;display:grid;gap:2px;grid-template-columns:repeat(4,1fr);align-content:start";
    document.body.append(grid);
    for (let i = 0; i < options.tiles; i++) {
      const canvas = this.canvasFor(SYNTHETIC_FIRST_PARTICIPANT + i);
      canvas.style.width = "100%";
      grid.append(canvas);
    }
    const channel = new Channel<ArrayBuffer>();
    channel.onmessage = (buffer) => this.handle(buffer);
    const { tiles, fps, seconds, batch } = options;
    await invoke("bench_frames", { request: { tiles, fps, seconds, batch }, video: channel });
  }
}

/** First participant id `bench_frames` uses (Rust: `FIRST_PARTICIPANT`). */
export const SYNTHETIC_FIRST_PARTICIPANT = 1_000_000;

function newCanvas(participant: number): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.className = "video";
  canvas.hidden = true;
  canvas.setAttribute("aria-hidden", "true");
  canvas.dataset["participantId"] = String(participant);
  return canvas;
}
