/**
 * Draws decoded camera pictures on the tiles' canvases. Pictures arrive
 * from the shell as raw bytes on an IPC channel (no JSON): a 16-byte
 * header (participant, width, height, timestamp as little-endian u32) and
 * the I420 planes. The canvases live here, one per participant, so a tile
 * redrawn by the meeting view keeps showing the last picture.
 */

/** Bytes before the planes (Rust: `video::HEADER_LEN`). */
export const HEADER_LEN = 16;

/** One unpacked picture. */
export interface Picture {
  participant: number;
  width: number;
  height: number;
  timestamp: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

/** Reads one channel message; null when it is malformed. */
export function unpack(buffer: ArrayBuffer): Picture | null {
  if (buffer.byteLength < HEADER_LEN) return null;
  const view = new DataView(buffer);
  const participant = view.getUint32(0, true);
  const width = view.getUint32(4, true);
  const height = view.getUint32(8, true);
  const timestamp = view.getUint32(12, true);
  const luma = width * height;
  const chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  if (width === 0 || height === 0 || buffer.byteLength !== HEADER_LEN + luma + 2 * chroma) return null;
  return {
    participant,
    width,
    height,
    timestamp,
    y: new Uint8Array(buffer, HEADER_LEN, luma),
    u: new Uint8Array(buffer, HEADER_LEN + luma, chroma),
    v: new Uint8Array(buffer, HEADER_LEN + luma + chroma, chroma),
  };
}

const clamp = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : x);

/** I420 (BT.601, limited range) to RGBA, into `out` (width*height*4 bytes). */
export function i420ToRgba(p: Picture, out: Uint8ClampedArray): void {
  const cw = Math.ceil(p.width / 2);
  for (let row = 0; row < p.height; row++) {
    const crow = (row >> 1) * cw;
    for (let col = 0; col < p.width; col++) {
      const c = 1.164 * ((p.y[row * p.width + col] ?? 0) - 16);
      const ci = crow + (col >> 1);
      const d = (p.u[ci] ?? 128) - 128;
      const e = (p.v[ci] ?? 128) - 128;
      const o = (row * p.width + col) * 4;
      out[o] = clamp(c + 1.596 * e);
      out[o + 1] = clamp(c - 0.392 * d - 0.813 * e);
      out[o + 2] = clamp(c + 2.017 * d);
      out[o + 3] = 255;
    }
  }
}

/** The canvases and what was last drawn on them. The page exposes the
 * app's wall as `document.body.dataset.video` counters for diagnostics. */
export class VideoWall {
  private readonly canvases = new Map<number, HTMLCanvasElement>();
  /** Pictures drawn per participant, for tests and the frame counter. */
  readonly drawn = new Map<number, number>();
  /** Messages received, and how many of them were malformed. */
  received = 0;
  malformed = 0;

  /** The participant's canvas (hidden until a picture arrives). */
  canvasFor(participant: number): HTMLCanvasElement {
    let canvas = this.canvases.get(participant);
    if (canvas === undefined) {
      canvas = document.createElement("canvas");
      canvas.className = "video";
      canvas.hidden = true;
      canvas.setAttribute("aria-hidden", "true");
      canvas.dataset["participantId"] = String(participant);
      this.canvases.set(participant, canvas);
    }
    return canvas;
  }

  /** Draws one channel message; malformed ones are ignored. */
  handle(buffer: ArrayBuffer): void {
    this.received += 1;
    const picture = buffer instanceof ArrayBuffer ? unpack(buffer) : null;
    if (picture === null) {
      this.malformed += 1;
      return;
    }
    const canvas = this.canvasFor(picture.participant);
    if (canvas.width !== picture.width) canvas.width = picture.width;
    if (canvas.height !== picture.height) canvas.height = picture.height;
    const ctx = canvas.getContext("2d");
    if (ctx === null) return;
    const image = ctx.createImageData(picture.width, picture.height);
    i420ToRgba(picture, image.data);
    ctx.putImageData(image, 0, 0);
    canvas.hidden = false;
    canvas.closest(".tile")?.classList.add("has-video");
    this.drawn.set(picture.participant, (this.drawn.get(picture.participant) ?? 0) + 1);
  }

  /** Pictures painted so far per participant id, plus the message
   * counters: what `window.__conferStats.stats()` returns, so a benchmark
   * can count frames painted per tile over an interval. */
  stats(): { drawn: Record<string, number>; received: number; malformed: number } {
    return { drawn: Object.fromEntries(this.drawn), received: this.received, malformed: this.malformed };
  }

  /** "received/malformed" counters, for diagnostics. */
  counters(): string {
    return `${this.received}/${this.malformed}`;
  }

  /** Forgets everyone (the meeting ended). */
  clear(): void {
    this.received = 0;
    this.malformed = 0;
    this.canvases.clear();
    this.drawn.clear();
  }
}
