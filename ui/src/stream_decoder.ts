/**
 * One participant's camera or screen, decoded in the page with WebCodecs.
 *
 * The shell hands the page each opened H.264 access unit (see
 * `src-tauri/src/video.rs`); a `StreamDecoder` feeds them to a
 * `VideoDecoder` and keeps the stream decodable:
 * - nothing is decoded before the first keyframe, which also names the
 *   codec (its SPS, see `h264.ts`);
 * - when the decoder fails (it then closes itself) or falls too far behind
 *   (a slow machine), units are skipped up to the next keyframe and the
 *   shell is asked for one, at most once a second, so the picture recovers
 *   in a round trip rather than at the sender's next scheduled keyframe.
 *
 * The decoder is reached through `DecoderFactory` so the logic can be
 * tested without a browser that has WebCodecs; `webCodecs` is the real one.
 */

import { codecOf, DEFAULT_CODEC } from "./h264";

/** Most units a decoder may have queued before we call it behind: about
 * a quarter second of a 30 fps camera. */
export const MAX_BACKLOG = 8;

/** Least time between two keyframe requests of one stream, in ms. */
export const KEYFRAME_REQUEST_EVERY_MS = 1000;

/** One access unit as the shell sent it. */
export interface AccessUnit {
  keyframe: boolean;
  data: Uint8Array;
}

/** What `StreamDecoder` needs of a `VideoDecoder`. */
export interface DecoderLike {
  readonly state: "unconfigured" | "configured" | "closed";
  readonly decodeQueueSize: number;
  configure(config: { codec: string; optimizeForLatency: boolean }): void;
  decode(chunk: { type: "key" | "delta"; timestamp: number; data: Uint8Array }): void;
  close(): void;
}

/** Makes decoders that hand pictures to `output` and failures to `error`. */
export type DecoderFactory<F> = (output: (frame: F) => void, error: (e: unknown) => void) => DecoderLike;

/** Whether this page can decode our H.264 itself (WebCodecs is there and
 * supports the codec); false on any doubt, so the shell decodes instead. */
export async function canDecodeH264(): Promise<boolean> {
  if (typeof VideoDecoder !== "function" || typeof EncodedVideoChunk !== "function") return false;
  try {
    const support = await VideoDecoder.isConfigSupported({ codec: DEFAULT_CODEC, optimizeForLatency: true });
    return support.supported === true;
  } catch {
    return false;
  }
}

/** The browser's WebCodecs decoder. */
export const webCodecs: DecoderFactory<VideoFrame> = (output, error) => {
  const decoder = new VideoDecoder({ output, error: (e) => error(e) });
  return {
    get state() {
      return decoder.state;
    },
    get decodeQueueSize() {
      return decoder.decodeQueueSize;
    },
    configure: (config) => decoder.configure(config),
    decode: (chunk) => decoder.decode(new EncodedVideoChunk(chunk)),
    close: () => decoder.close(),
  };
};

/** What happened to a stream's units so far. */
export interface DecodeCounters {
  units: number;
  /** Pictures the decoder produced. */
  decoded: number;
  /** Units skipped while waiting for a keyframe. */
  skipped: number;
  /** Times the decoder failed. */
  errors: number;
  keyframeRequests: number;
}

/** Timestamps given to the decoder: steps of one 30 fps frame, in µs (the
 * decoder only passes them through; RTP's wrap around). */
const STEP_US = 33_333;

/** Decodes one stream (see the module docs). */
export class StreamDecoder<F> {
  private decoder: DecoderLike | null = null;
  private codec: string | null = null;
  private waitingForKeyframe = true;
  private timestamp = 0;
  private lastRequest = Number.NEGATIVE_INFINITY;
  readonly counters: DecodeCounters = { units: 0, decoded: 0, skipped: 0, errors: 0, keyframeRequests: 0 };

  /** `onFrame` gets each picture (and owns it: close it when done);
   * `askKeyframe` asks the shell for a keyframe; `now` is in ms. */
  constructor(
    private readonly factory: DecoderFactory<F>,
    private readonly onFrame: (frame: F) => void,
    private readonly askKeyframe: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes the stream's next access unit. */
  feed(unit: AccessUnit): void {
    this.counters.units += 1;
    if (unit.keyframe) {
      if (!this.open(unit.data)) return;
      this.waitingForKeyframe = false;
    } else if (this.waitingForKeyframe || this.decoder?.state !== "configured") {
      this.skip();
      return;
    } else if (this.decoder.decodeQueueSize > MAX_BACKLOG) {
      // Decoding cannot keep up: catch up at a keyframe rather than show
      // pictures later and later.
      this.waitingForKeyframe = true;
      this.skip();
      return;
    }
    this.timestamp += STEP_US;
    try {
      this.decoder?.decode({ type: unit.keyframe ? "key" : "delta", timestamp: this.timestamp, data: unit.data });
    } catch (e) {
      this.fail(e);
    }
  }

  /** Stops decoding and lets go of the decoder. */
  close(): void {
    if (this.decoder !== null && this.decoder.state !== "closed") this.decoder.close();
    this.decoder = null;
  }

  /** A decoder configured for the keyframe `data`; false when none could be. */
  private open(data: Uint8Array): boolean {
    const codec = codecOf(data) ?? this.codec ?? DEFAULT_CODEC;
    try {
      if (this.decoder === null || this.decoder.state === "closed") {
        this.decoder = this.factory(
          (frame) => {
            this.counters.decoded += 1;
            this.onFrame(frame);
          },
          (e) => this.fail(e),
        );
        this.decoder.configure({ codec, optimizeForLatency: true });
      } else if (codec !== this.codec) {
        // A new profile or level (the sender changed size): start over.
        this.decoder.configure({ codec, optimizeForLatency: true });
      }
      this.codec = codec;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  private skip(): void {
    this.counters.skipped += 1;
    this.requestKeyframe();
  }

  private fail(_error: unknown): void {
    this.counters.errors += 1;
    this.close();
    this.waitingForKeyframe = true;
    this.requestKeyframe();
  }

  private requestKeyframe(): void {
    const now = this.now();
    if (now - this.lastRequest < KEYFRAME_REQUEST_EVERY_MS) return;
    this.lastRequest = now;
    this.counters.keyframeRequests += 1;
    this.askKeyframe();
  }
}
