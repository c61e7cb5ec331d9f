/**
 * Draws participants' video on the tiles' canvases. Video arrives from the
 * shell as raw bytes on an IPC channel (no JSON): each message holds one
 * or more records back to back (Rust: `src-tauri/src/video.rs`), each a
 * 24-byte header of little-endian u32s (kind, participant, flags,
 * timestamp, a, b) and its payload:
 * - an I420 picture (`a`, `b` = width, height; the three planes), drawn
 *   with WebGL where the webview has it (`gl_renderer.ts`): the self view,
 *   and everyone in a webview without WebCodecs;
 * - an H.264 access unit (`a` = its length), decoded in the page with
 *   WebCodecs (`stream_decoder.ts`) and drawn with `drawImage`.
 * Flags: bit 0 keyframe, bit 1 screen share (else camera).
 *
 * Pictures are not drawn as they arrive: each tile keeps only its latest
 * undrawn picture and all tiles paint together on the next animation
 * frame, so a burst of messages costs one draw per tile per display
 * refresh and a picture that a newer one replaced is counted as dropped.
 *
 * The canvases live here, one per participant's camera or screen, so a
 * tile redrawn by the meeting view keeps showing the last picture.
 */

import { Channel, invoke } from "@tauri-apps/api/core";
import { createRenderer, type Frame, type Renderer, type RendererKind, type RendererPreference } from "./gl_renderer";
import { type DecodeCounters, type DecoderFactory, StreamDecoder, webCodecs } from "./stream_decoder";

export { i420ToRgba } from "./gl_renderer";

/** Bytes before each record's payload (Rust: `video::HEADER_LEN`). */
export const HEADER_LEN = 24;
/** Record kind: an I420 picture. */
export const KIND_I420 = 1;
/** Record kind: an H.264 access unit (Annex B). */
export const KIND_H264 = 2;
/** Flag: a keyframe. */
export const FLAG_KEYFRAME = 1;
/** Flag: a screen share rather than a camera. */
export const FLAG_SCREEN = 2;

/** One unpacked picture. */
export interface Picture extends Frame {
  participant: number;
  screen: boolean;
  timestamp: number;
}

/** One unpacked access unit. */
export interface Unit {
  participant: number;
  screen: boolean;
  keyframe: boolean;
  timestamp: number;
  data: Uint8Array;
}

/** One record of a message. */
export type VideoRecord = { kind: "i420"; picture: Picture; length: number } | { kind: "h264"; unit: Unit; length: number };

/** Reads the record at `offset`; null when it is malformed or of an
 * unknown kind. */
function recordAt(buffer: ArrayBuffer, offset: number): VideoRecord | null {
  if (buffer.byteLength - offset < HEADER_LEN) return null;
  const view = new DataView(buffer, offset);
  const [kind, participant, flags, timestamp, a, b] = [0, 1, 2, 3, 4, 5].map((i) => view.getUint32(i * 4, true)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const screen = (flags & FLAG_SCREEN) !== 0;
  const payload = offset + HEADER_LEN;
  const room = buffer.byteLength - payload;
  if (kind === KIND_H264) {
    if (a === 0 || a > room) return null;
    const keyframe = (flags & FLAG_KEYFRAME) !== 0;
    const unit = { participant, screen, keyframe, timestamp, data: new Uint8Array(buffer, payload, a) };
    return { kind: "h264", unit, length: HEADER_LEN + a };
  }
  if (kind !== KIND_I420) return null;
  const [width, height] = [a, b];
  const luma = width * height;
  const chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  if (width === 0 || height === 0 || room < luma + 2 * chroma) return null;
  const picture = {
    participant,
    screen,
    width,
    height,
    timestamp,
    y: new Uint8Array(buffer, payload, luma),
    u: new Uint8Array(buffer, payload + luma, chroma),
    v: new Uint8Array(buffer, payload + luma + chroma, chroma),
  };
  return { kind: "i420", picture, length: HEADER_LEN + luma + 2 * chroma };
}

/** Reads a message that holds exactly one I420 picture; null otherwise. */
export function unpack(buffer: ArrayBuffer): Picture | null {
  const record = recordAt(buffer, 0);
  return record?.kind === "i420" && record.length === buffer.byteLength ? record.picture : null;
}

/** Reads every record of a message; null when any part is malformed
 * (then none is used: a message cut short is not trusted in part). */
export function unpackRecords(buffer: ArrayBuffer): VideoRecord[] | null {
  const records: VideoRecord[] = [];
  let offset = 0;
  while (offset < buffer.byteLength) {
    const record = recordAt(buffer, offset);
    if (record === null) return null;
    records.push(record);
    offset += record.length;
  }
  return records.length === 0 ? null : records;
}

/** Reads every picture of a message of I420 pictures only; null when any
 * part is malformed or not a picture. */
export function unpackAll(buffer: ArrayBuffer): Picture[] | null {
  const records = unpackRecords(buffer);
  if (records === null) return null;
  const pictures = records.flatMap((r) => (r.kind === "i420" ? [r.picture] : []));
  return pictures.length === records.length ? pictures : null;
}

/** The key of a participant's camera or screen tile: screens are kept
 * apart from cameras above 2^32 (participant ids are u32). */
export function tileKey(participant: number, screen: boolean): number {
  return screen ? participant + 2 ** 32 : participant;
}

/**
 * Latest-wins scheduling of pictures per tile, without timers or DOM:
 * `offer` a picture as it arrives (true means "ask for a paint"), and on
 * the paint `take` what is pending. A picture replaced before its paint
 * counts as dropped for its tile.
 */
export class LatestFrames<T> {
  private pending = new Map<number, T[]>();
  private requested = false;
  /** Pictures replaced before they were painted, per tile. */
  readonly dropped = new Map<number, number>();

  /** `release` is given each picture that is dropped unpainted (decoded
   * frames hold decoder memory until closed). `depth`: how many pictures
   * a tile may hold for coming paints. With 1 only the latest is painted;
   * with 2 a picture that arrives in the same paint interval as the one
   * before it (decoders deliver in bursts when the page is busy) is
   * painted at the next paint instead of being dropped, at the cost of at
   * most one picture's delay. */
  constructor(
    private readonly release: (frame: T) => void = () => undefined,
    private readonly depth = 1,
  ) {}

  /** Keeps `frame` as one of `id`'s next pictures, dropping the oldest
   * beyond the depth; true when the caller must request a paint (none is
   * outstanding). */
  offer(id: number, frame: T): boolean {
    const queue = this.pending.get(id) ?? [];
    queue.push(frame);
    while (queue.length > this.depth) {
      const replaced = queue.shift() as T;
      this.dropped.set(id, (this.dropped.get(id) ?? 0) + 1);
      this.release(replaced);
    }
    this.pending.set(id, queue);
    if (this.requested) return false;
    this.requested = true;
    return true;
  }

  /** The pictures to paint now, the oldest held per tile, and forgets
   * them. When pictures remain for a later paint, {@link waiting} is true
   * and the caller must request that paint. */
  take(): [number, T][] {
    const due: [number, T][] = [];
    for (const [id, queue] of this.pending) {
      const first = queue.shift();
      if (first !== undefined) due.push([id, first]);
      if (queue.length === 0) this.pending.delete(id);
    }
    this.requested = this.pending.size > 0;
    return due;
  }

  /** Whether pictures wait for another paint after {@link take}. */
  get waiting(): boolean {
    return this.pending.size > 0;
  }

  /** Forgets pending pictures and counters. */
  clear(): void {
    for (const queue of this.pending.values()) for (const frame of queue) this.release(frame);
    this.pending.clear();
    this.requested = false;
    this.dropped.clear();
  }
}

/** Pictures a tile may hold for coming paints (see {@link LatestFrames}). */
const PAINT_DEPTH = 2;

/** How the wall draws: a renderer preference, or "none" to receive and
 * count pictures without drawing (isolates IPC cost in the benchmark). */
export type WallMode = RendererPreference | "none";

/** A decoded picture as the page's decoder gives it: drawable, and to be
 * closed once drawn (a `VideoFrame`). */
export interface DecodedFrame {
  readonly displayWidth: number;
  readonly displayHeight: number;
  close(): void;
}

/** What waits for a tile's next paint. */
type Pending = { kind: "i420"; picture: Picture } | { kind: "frame"; frame: DecodedFrame };

/** One canvas and what draws on it. */
interface Tile {
  canvas: HTMLCanvasElement;
  /** Draws I420 pictures. */
  renderer: Renderer | null;
  /** Draws decoded frames. */
  context: CanvasRenderingContext2D | null;
  /** A WebGL context on this tile was lost, or it draws decoded frames:
   * stay on 2D. */
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
  /** Send the tiles as H.264 for the page to decode (the shipped path). */
  encoded?: boolean;
  /** Add a small raw self-view tile. */
  selfView?: boolean;
}

/** How the wall gets decoders and keyframes. */
export interface WallOptions {
  /** Makes H.264 decoders; null when the page cannot decode (then the
   * shell sends pictures). Defaults to WebCodecs where present. */
  decoders?: DecoderFactory<DecodedFrame> | null;
  /** Asks the shell for a keyframe of a participant's camera or screen. */
  askKeyframe?: (participant: number, screen: boolean) => void;
}

const defaultDecoders = (): DecoderFactory<DecodedFrame> | null =>
  typeof VideoDecoder === "function" && typeof EncodedVideoChunk === "function" ? webCodecs : null;

/** The canvases and what was last drawn on them. The page exposes the
 * app's wall as `window.__conferStats` for the benchmark. */
export class VideoWall {
  private readonly tiles = new Map<number, Tile>();
  private readonly frames = new LatestFrames<Pending>((p) => {
    if (p.kind === "frame") p.frame.close();
  }, PAINT_DEPTH);
  private readonly decoders = new Map<number, StreamDecoder<DecodedFrame>>();
  private readonly decoderFactory: DecoderFactory<DecodedFrame> | null;
  private readonly askKeyframe: (participant: number, screen: boolean) => void;
  /** Pictures painted per tile, for tests and the frame counter. */
  readonly drawn = new Map<number, number>();
  /** The size of each tile's last picture (its simulcast layer). */
  private readonly sizes = new Map<number, [number, number]>();
  /** Messages received, and how many of them were malformed. */
  received = 0;
  malformed = 0;
  /** Pictures and access units received (a message may hold several). */
  pictures = 0;
  units = 0;
  /** How I420 tiles are drawn; read when a tile's renderer is created. */
  mode: WallMode = "auto";
  /** Whether "auto" may choose WebGL. The app turns it off when the
   * webview composites in software (`AppInfo.compositing`): a WebGL
   * canvas then costs an OpenGL context and a read-back per picture for
   * nothing the 2D canvas cannot do. */
  preferWebGl = true;
  private timing: Timing = { unpackMs: 0, drawMs: 0, paints: 0 };

  /** `requestFrame` schedules the paint (the browser's
   * `requestAnimationFrame`; tests pass their own). */
  constructor(
    private readonly requestFrame: (paint: () => void) => void = (paint) => {
      requestAnimationFrame(() => paint());
    },
    options: WallOptions = {},
  ) {
    this.decoderFactory = options.decoders === undefined ? defaultDecoders() : options.decoders;
    this.askKeyframe = options.askKeyframe ?? (() => undefined);
  }

  /** Decode H.264 here when the page can (false asks the shell for
   * pictures even so: the benchmark's comparison). */
  decodeInPage = true;

  /** Whether access units are to be decoded here (else ask for pictures). */
  get decodesH264(): boolean {
    return this.decodeInPage && this.decoderFactory !== null;
  }

  private tile(key: number): Tile {
    let tile = this.tiles.get(key);
    if (tile === undefined) {
      tile = { canvas: newCanvas(key), renderer: null, context: null, lost: false };
      this.tiles.set(key, tile);
    }
    return tile;
  }

  /** The participant's camera canvas (hidden until a picture arrives). */
  canvasFor(participant: number): HTMLCanvasElement {
    return this.tile(tileKey(participant, false)).canvas;
  }

  /** The participant's screen-share canvas (hidden until a picture arrives). */
  screenCanvasFor(participant: number): HTMLCanvasElement {
    return this.tile(tileKey(participant, true)).canvas;
  }

  /** Whether a picture of the participant's screen share was drawn. */
  hasScreen(participant: number): boolean {
    return (this.drawn.get(tileKey(participant, true)) ?? 0) > 0;
  }

  /** Takes one channel message; malformed ones are ignored. Pictures are
   * drawn on the next animation frame, latest per tile. */
  handle(buffer: ArrayBuffer): void {
    this.received += 1;
    const start = performance.now();
    const records = buffer instanceof ArrayBuffer ? unpackRecords(buffer) : null;
    this.timing.unpackMs += performance.now() - start;
    if (records === null) {
      this.malformed += 1;
      return;
    }
    let request = false;
    for (const record of records) {
      if (record.kind === "h264") {
        this.units += 1;
        if (this.mode !== "none") this.decoderFor(record.unit).feed(record.unit);
        continue;
      }
      this.pictures += 1;
      if (this.mode === "none") continue;
      const { picture } = record;
      request = this.frames.offer(tileKey(picture.participant, picture.screen), { kind: "i420", picture }) || request;
    }
    if (request) this.requestFrame(() => this.paint());
  }

  private decoderFor(unit: Unit): StreamDecoder<DecodedFrame> {
    const key = tileKey(unit.participant, unit.screen);
    let decoder = this.decoders.get(key);
    if (decoder === undefined) {
      const factory: DecoderFactory<DecodedFrame> =
        this.decoderFactory ??
        (() => {
          throw new Error("this page cannot decode H.264");
        });
      const { participant, screen } = unit;
      decoder = new StreamDecoder<DecodedFrame>(
        factory,
        (frame) => {
          if (this.frames.offer(key, { kind: "frame", frame })) this.requestFrame(() => this.paint());
        },
        () => this.askKeyframe(participant, screen),
      );
      this.decoders.set(key, decoder);
    }
    return decoder;
  }

  /** Draws every tile's latest picture (the animation-frame callback). */
  paint(): void {
    const start = performance.now();
    for (const [key, pending] of this.frames.take()) {
      const tile = this.tile(key);
      const ok = pending.kind === "i420" ? this.drawOn(tile, key, pending.picture) : this.drawFrame(tile, key, pending.frame);
      if (ok) {
        tile.canvas.hidden = false;
        tile.canvas.closest(".tile, .screen-stage")?.classList.add("has-video");
        this.drawn.set(key, (this.drawn.get(key) ?? 0) + 1);
      }
    }
    this.timing.drawMs += performance.now() - start;
    this.timing.paints += 1;
    if (this.frames.waiting) this.requestFrame(() => this.paint());
  }

  /** Draws a decoded frame with the 2D canvas, then closes it. */
  private drawFrame(tile: Tile, key: number, frame: DecodedFrame): boolean {
    try {
      if (tile.context === null) {
        if (tile.renderer !== null && tile.renderer.kind !== "2d") this.swapCanvas(tile, key);
        tile.renderer = null;
        tile.lost = true;
        tile.context = tile.canvas.getContext("2d");
      }
      const ctx = tile.context;
      if (ctx === null) return false;
      this.sizes.set(key, [frame.displayWidth, frame.displayHeight]);
      const [w, h] = backingSize(frame.displayWidth, frame.displayHeight, tile.canvas.clientWidth);
      if (tile.canvas.width !== w || tile.canvas.height !== h) {
        tile.canvas.width = w;
        tile.canvas.height = h;
      }
      ctx.drawImage(frame as unknown as CanvasImageSource, 0, 0, w, h);
      return true;
    } catch {
      return false;
    } finally {
      frame.close();
    }
  }

  private drawOn(tile: Tile, key: number, picture: Picture): boolean {
    if (tile.context !== null) {
      // The tile drew decoded frames (2D); pictures now: the 2D renderer.
      tile.context = null;
      tile.renderer = createRenderer(tile.canvas, "2d", true);
    }
    tile.renderer ??= createRenderer(tile.canvas, this.mode === "2d" || !this.preferWebGl ? "2d" : "auto", tile.lost);
    this.sizes.set(key, [picture.width, picture.height]);
    if (tile.renderer.draw(picture)) return true;
    if (tile.lost) return false;
    // Context lost (or WebGL set up but unusable): a canvas that had a
    // WebGL context cannot give a 2D one, so swap in a fresh canvas.
    this.swapCanvas(tile, key);
    tile.lost = true;
    tile.renderer = createRenderer(tile.canvas, "2d", true);
    return tile.renderer.draw(picture);
  }

  private swapCanvas(tile: Tile, key: number): void {
    const fresh = newCanvas(key);
    tile.canvas.replaceWith(fresh);
    tile.canvas = fresh;
  }

  /** Pictures painted and dropped so far per tile, the message counters,
   * each tile's renderer, the decoders' counters and where the page's
   * time went: what `window.__conferStats.stats()` returns, so a
   * benchmark can count frames painted per tile over an interval. */
  stats(): {
    drawn: Record<string, number>;
    dropped: Record<string, number>;
    received: number;
    malformed: number;
    pictures: number;
    units: number;
    renderers: Record<string, RendererKind | "decoded" | null>;
    decoders: Record<string, DecodeCounters>;
    sizes: Record<string, [number, number]>;
    timing: Timing;
  } {
    const renderers: Record<string, RendererKind | "decoded" | null> = {};
    for (const [id, tile] of this.tiles) renderers[id] = tile.context !== null ? "decoded" : (tile.renderer?.kind ?? null);
    const decoders: Record<string, DecodeCounters> = {};
    for (const [id, d] of this.decoders) decoders[id] = { ...d.counters };
    return {
      drawn: Object.fromEntries(this.drawn),
      dropped: Object.fromEntries(this.frames.dropped),
      received: this.received,
      malformed: this.malformed,
      pictures: this.pictures,
      units: this.units,
      renderers,
      decoders,
      sizes: Object.fromEntries(this.sizes),
      timing: { ...this.timing },
    };
  }

  /** "received/malformed" counters, for diagnostics. */
  counters(): string {
    return `${this.received}/${this.malformed}`;
  }

  /** Forgets everyone (the meeting ended) and closes the decoders. */
  clear(): void {
    this.received = 0;
    this.malformed = 0;
    this.pictures = 0;
    this.units = 0;
    for (const decoder of this.decoders.values()) decoder.close();
    this.decoders.clear();
    this.tiles.clear();
    this.frames.clear();
    this.drawn.clear();
    this.sizes.clear();
    this.timing = { unpackMs: 0, drawMs: 0, paints: 0 };
  }

  /**
   * Benchmark only: asks the shell for synthetic moving tiles (its
   * `bench_frames` command, absent from shipped builds) and shows their
   * canvases in a grid over the page, isolating the page's work from the
   * network. Resolves once the pictures start flowing.
   */
  async startSynthetic(options: SyntheticOptions): Promise<void> {
    this.clear();
    this.mode = options.mode;
    const grid = document.createElement("div");
    grid.id = "bench-wall";
    grid.style.cssText =
      "position:fixed;inset:0;z-index:1000;background:#000;display:grid;gap:2px;grid-template-columns:repeat(4,1fr);align-content:start";
    document.body.append(grid);
    const encoded = options.encoded === true && this.decodesH264;
    const count = options.tiles + (options.selfView === true ? 1 : 0);
    for (let i = 0; i < count; i++) {
      const canvas = this.canvasFor(SYNTHETIC_FIRST_PARTICIPANT + i);
      canvas.style.width = "100%";
      grid.append(canvas);
    }
    const channel = new Channel<ArrayBuffer>();
    channel.onmessage = (buffer) => this.handle(buffer);
    const { tiles, fps, seconds, batch } = options;
    const request = { tiles, fps, seconds, batch, encoded, selfView: options.selfView === true };
    await invoke("bench_frames", { request, video: channel });
  }
}

/**
 * The canvas size to draw a `width`×`height` frame at on a tile shown
 * `shownWidth` CSS pixels wide: no larger than it appears on screen (in
 * device pixels) nor than the frame, keeping its shape. Without a GPU the
 * webview converts, scales and composites every canvas pixel on the CPU,
 * so a 640×360 camera shown in a 420-pixel tile is drawn at 420×236.
 * Unknown (0, a hidden canvas) means the frame's own size.
 */
export function backingSize(width: number, height: number, shownWidth: number, pixelRatio = globalThis.devicePixelRatio || 1): [number, number] {
  const shown = Math.round(shownWidth * pixelRatio);
  if (shown <= 0 || shown >= width) return [width, height];
  return [shown, Math.max(1, Math.round((height * shown) / width))];
}

/** First participant id `bench_frames` uses (Rust: `FIRST_PARTICIPANT`). */
export const SYNTHETIC_FIRST_PARTICIPANT = 1_000_000;

function newCanvas(key: number): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.className = "video";
  canvas.hidden = true;
  canvas.setAttribute("aria-hidden", "true");
  canvas.dataset["participantId"] = String(key >= 2 ** 32 ? key - 2 ** 32 : key);
  if (key >= 2 ** 32) canvas.dataset["screen"] = "true";
  return canvas;
}
