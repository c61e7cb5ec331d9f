// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DecoderLike } from "./stream_decoder";
import {
  type DecodedFrame,
  FLAG_KEYFRAME,
  FLAG_SCREEN,
  HEADER_LEN,
  KIND_H264,
  KIND_I420,
  LatestFrames,
  backingSize,
  tileKey,
  unpack,
  unpackAll,
  unpackRecords,
  VideoWall,
} from "./video_wall";

function message(participant: number, w: number, h: number, y: number, u: number, v: number): ArrayBuffer {
  const luma = w * h;
  const chroma = Math.ceil(w / 2) * Math.ceil(h / 2);
  const buf = new ArrayBuffer(HEADER_LEN + luma + 2 * chroma);
  const view = new DataView(buf);
  [KIND_I420, participant, 0, 3000, w, h].forEach((x, i) => view.setUint32(i * 4, x, true));
  const bytes = new Uint8Array(buf);
  bytes.fill(y, HEADER_LEN, HEADER_LEN + luma);
  bytes.fill(u, HEADER_LEN + luma, HEADER_LEN + luma + chroma);
  bytes.fill(v, HEADER_LEN + luma + chroma);
  return buf;
}

/** One access-unit record. */
function unit(participant: number, flags: number, data: number[]): ArrayBuffer {
  const buf = new ArrayBuffer(HEADER_LEN + data.length);
  const view = new DataView(buf);
  [KIND_H264, participant, flags, 90, data.length, 0].forEach((x, i) => view.setUint32(i * 4, x, true));
  new Uint8Array(buf).set(data, HEADER_LEN);
  return buf;
}

function concat(...parts: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return out.buffer;
}

describe("unpack", () => {
  it("reads the header and slices the planes", () => {
    const p = unpack(message(7, 4, 2, 16, 128, 128));
    expect(p).toMatchObject({ participant: 7, width: 4, height: 2, timestamp: 3000 });
    expect([p?.y.length, p?.u.length, p?.v.length]).toEqual([8, 2, 2]);
  });

  it("rounds odd sizes' chroma planes up", () => {
    const p = unpack(message(1, 5, 3, 16, 128, 128));
    expect([p?.y.length, p?.u.length, p?.v.length]).toEqual([15, 6, 6]);
  });

  it("refuses truncated or mis-sized messages", () => {
    expect(unpack(new ArrayBuffer(8))).toBeNull();
    expect(unpack(message(1, 4, 2, 0, 0, 0).slice(0, 28))).toBeNull();
    expect(unpack(concat(message(1, 4, 2, 0, 0, 0), new ArrayBuffer(1)))).toBeNull();
  });
});

describe("unpackAll", () => {
  it("reads several pictures of one message in order", () => {
    const all = unpackAll(concat(message(1, 4, 2, 16, 128, 128), message(2, 6, 4, 235, 128, 128)));
    expect(all?.map((p) => [p.participant, p.width, p.height, p.y[0]])).toEqual([
      [1, 4, 2, 16],
      [2, 6, 4, 235],
    ]);
  });

  it("refuses a message whose last picture is cut short, and an empty one", () => {
    const whole = concat(message(1, 4, 2, 16, 128, 128), message(2, 4, 2, 16, 128, 128));
    expect(unpackAll(whole.slice(0, whole.byteLength - 1))).toBeNull();
    expect(unpackAll(new ArrayBuffer(0))).toBeNull();
  });

  it("refuses a zero-sized picture", () => {
    expect(unpackAll(message(1, 0, 2, 0, 0, 0))).toBeNull();
  });
});

describe("backingSize", () => {
  it("draws no larger than the tile appears, nor than the frame", () => {
    expect(backingSize(640, 360, 420, 1)).toEqual([420, 236]);
    expect(backingSize(640, 360, 420, 2)).toEqual([640, 360]);
    expect(backingSize(320, 180, 420, 1)).toEqual([320, 180]);
    // Not laid out yet: the frame's own size.
    expect(backingSize(640, 360, 0, 1)).toEqual([640, 360]);
  });
});

describe("unpackRecords", () => {
  it("reads pictures and access units side by side", () => {
    const records = unpackRecords(concat(message(1, 4, 2, 16, 128, 128), unit(2, FLAG_KEYFRAME | FLAG_SCREEN, [0, 0, 1, 0x65])));
    expect(records?.map((r) => r.kind)).toEqual(["i420", "h264"]);
    const au = records?.[1];
    expect(au?.kind === "h264" && au.unit).toMatchObject({ participant: 2, screen: true, keyframe: true, timestamp: 90 });
    expect(au?.kind === "h264" && [...au.unit.data]).toEqual([0, 0, 1, 0x65]);
  });

  it("refuses units cut short, empty or of an unknown kind", () => {
    expect(unpackRecords(unit(1, 0, [1, 2, 3]).slice(0, HEADER_LEN + 2))).toBeNull();
    expect(unpackRecords(unit(1, 0, []))).toBeNull();
    const odd = unit(1, 0, [1]);
    new DataView(odd).setUint32(0, 9, true);
    expect(unpackRecords(odd)).toBeNull();
    // A message of units is not a message of pictures.
    expect(unpackAll(unit(1, 0, [1]))).toBeNull();
  });
});

describe("LatestFrames", () => {
  it("asks for one paint however many pictures arrive before it", () => {
    const frames = new LatestFrames<string>();
    expect(frames.offer(1, "a")).toBe(true);
    expect(frames.offer(2, "b")).toBe(false);
    expect(frames.offer(1, "c")).toBe(false);
    expect(frames.take()).toEqual([
      [1, "c"],
      [2, "b"],
    ]);
    // After the paint, the next picture asks again.
    expect(frames.offer(2, "d")).toBe(true);
  });

  it("counts a picture replaced before its paint as dropped for its tile", () => {
    const frames = new LatestFrames<number>();
    frames.offer(1, 1);
    frames.offer(1, 2);
    frames.offer(1, 3);
    frames.offer(2, 1);
    frames.take();
    frames.offer(1, 4);
    frames.take();
    expect(Object.fromEntries(frames.dropped)).toEqual({ 1: 2 });
  });

  it("releases pictures replaced or cleared before their paint", () => {
    const released: number[] = [];
    const frames = new LatestFrames<number>((f) => released.push(f));
    frames.offer(1, 1);
    frames.offer(1, 2);
    frames.take();
    frames.offer(1, 3);
    frames.clear();
    expect(released).toEqual([1, 3]);
  });

  it("with depth 2, paints a burst's pictures in turn and drops only beyond two", () => {
    const released: number[] = [];
    const frames = new LatestFrames<number>((f) => released.push(f), 2);
    expect(frames.offer(1, 1)).toBe(true);
    frames.offer(1, 2);
    frames.offer(2, 10);
    expect(frames.take()).toEqual([
      [1, 1],
      [2, 10],
    ]);
    // Tile 1's second picture waits for the next paint, which the caller
    // must request (offers no longer ask while it is outstanding).
    expect(frames.waiting).toBe(true);
    expect(frames.offer(2, 11)).toBe(false);
    expect(frames.take()).toEqual([
      [1, 2],
      [2, 11],
    ]);
    expect(frames.waiting).toBe(false);
    expect(frames.offer(1, 3)).toBe(true);
    frames.offer(1, 4);
    frames.offer(1, 5);
    expect(released).toEqual([3]);
    expect(Object.fromEntries(frames.dropped)).toEqual({ 1: 1 });
    frames.clear();
    expect(released).toEqual([3, 4, 5]);
  });

  it("has nothing to paint after a take or a clear", () => {
    const frames = new LatestFrames<number>();
    frames.offer(1, 1);
    frames.take();
    expect(frames.take()).toEqual([]);
    frames.offer(1, 2);
    frames.clear();
    expect(frames.take()).toEqual([]);
    expect(frames.offer(1, 3)).toBe(true);
  });
});

describe("VideoWall", () => {
  it("schedules one paint for a batched message and counts its pictures", () => {
    const paints: (() => void)[] = [];
    const wall = new VideoWall((paint) => paints.push(paint));
    wall.handle(concat(message(1, 4, 2, 16, 128, 128), message(2, 4, 2, 16, 128, 128)));
    wall.handle(message(1, 4, 2, 16, 128, 128));
    wall.handle(message(1, 4, 2, 16, 128, 128));
    expect(paints.length).toBe(1);
    const s = wall.stats();
    expect([s.received, s.pictures, s.malformed]).toEqual([3, 4, 0]);
    // A tile holds two pictures for coming paints; the third drops the oldest.
    expect(s.dropped).toEqual({ 1: 1 });
  });

  it("counts malformed messages and schedules nothing for them", () => {
    const paints: (() => void)[] = [];
    const wall = new VideoWall((paint) => paints.push(paint));
    wall.handle(new ArrayBuffer(3));
    expect(paints.length).toBe(0);
    expect(wall.counters()).toBe("1/1");
  });

  it("only counts pictures in mode none", () => {
    const paints: (() => void)[] = [];
    const wall = new VideoWall((paint) => paints.push(paint));
    wall.mode = "none";
    wall.handle(message(1, 4, 2, 16, 128, 128));
    expect(paints.length).toBe(0);
    expect(wall.stats().pictures).toBe(1);
  });

  it("asks for WebGL only while it is preferred", () => {
    const asked: string[] = [];
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation((kind: string) => {
      asked.push(kind);
      return null;
    });
    const paints: (() => void)[] = [];
    const wall = new VideoWall((paint) => paints.push(paint));
    wall.preferWebGl = false;
    wall.canvasFor(1);
    wall.handle(message(1, 4, 2, 16, 128, 128));
    paints.shift()?.();
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((k) => k.startsWith("webgl"))).toEqual([]);

    asked.length = 0;
    const preferring = new VideoWall((paint) => paints.push(paint));
    preferring.canvasFor(2);
    preferring.handle(message(2, 4, 2, 16, 128, 128));
    paints.shift()?.();
    expect(asked[0]).toBe("webgl2");
    vi.restoreAllMocks();
  });

  it("keeps a participant's canvas across calls and forgets it on clear", () => {
    const wall = new VideoWall(() => undefined);
    const canvas = wall.canvasFor(3);
    expect(wall.canvasFor(3)).toBe(canvas);
    expect(canvas.hidden).toBe(true);
    wall.clear();
    expect(wall.canvasFor(3)).not.toBe(canvas);
  });
});

/** A stand-in for WebCodecs' VideoDecoder (happy-dom has none): every
 * unit decodes to one frame, synchronously; `failNext` makes the next
 * decode fail as a real decoder does (error callback, then closed). */
class FakeDecoder implements DecoderLike {
  state: "unconfigured" | "configured" | "closed" = "unconfigured";
  decodeQueueSize = 0;
  codec = "";
  static failNext = false;
  constructor(
    private readonly output: (f: DecodedFrame) => void,
    private readonly error: (e: unknown) => void,
    private readonly closed: number[],
  ) {}
  configure(config: { codec: string }): void {
    this.codec = config.codec;
    this.state = "configured";
  }
  decode(): void {
    if (FakeDecoder.failNext) {
      FakeDecoder.failNext = false;
      this.state = "closed";
      this.error(new Error("decode failed"));
      return;
    }
    this.output({ displayWidth: 4, displayHeight: 2, close: () => this.closed.push(1) });
  }
  close(): void {
    this.state = "closed";
  }
}

describe("VideoWall with access units", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  /** happy-dom has no 2D canvas: record the draws instead. */
  const draws: number[][] = [];
  const setup = () => {
    draws.length = 0;
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(
      () =>
        ({
          drawImage: (_f: unknown, x: number, y: number, w: number, h: number) => draws.push([x, y, w, h]),
        }) as never,
    );
    const paints: (() => void)[] = [];
    const asked: [number, boolean][] = [];
    const closed: number[] = [];
    const wall = new VideoWall((paint) => paints.push(paint), {
      decoders: (output, error) => new FakeDecoder(output, error, closed),
      askKeyframe: (p, screen) => asked.push([p, screen]),
    });
    return { wall, paints, asked, closed };
  };
  const SPS_KEYFRAME = [0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0, 0, 0, 1, 0x65, 0x88];

  it("decodes from the first keyframe and paints a burst's frames in turn", () => {
    const { wall, paints, asked, closed } = setup();
    wall.handle(unit(5, 0, [0, 0, 1, 0x41])); // a delta before any keyframe
    expect(wall.stats().decoders[5]).toMatchObject({ skipped: 1, decoded: 0, keyframeRequests: 1 });
    expect(asked).toEqual([[5, false]]);
    wall.handle(concat(unit(5, FLAG_KEYFRAME, SPS_KEYFRAME), unit(5, 0, [0, 0, 1, 0x41])));
    expect(paints.length).toBe(1);
    paints[0]?.();
    let s = wall.stats();
    expect(s.decoders[5]).toMatchObject({ units: 3, decoded: 2, errors: 0 });
    // Two frames came in one burst: the first is painted (and closed), the
    // second waits for the paint the wall asked for.
    expect(s.dropped).toEqual({});
    expect(closed.length).toBe(1);
    expect(paints.length).toBe(2);
    expect(wall.canvasFor(5).hidden).toBe(false);
    expect(s.units).toBe(3);
    // Drawn at the frame's size, on a canvas of that size.
    expect(draws).toEqual([[0, 0, 4, 2]]);
    expect([wall.canvasFor(5).width, wall.canvasFor(5).height]).toEqual([4, 2]);
    expect(s.drawn).toEqual({ 5: 1 });
    expect(s.sizes).toEqual({ 5: [4, 2] });
    paints[1]?.();
    s = wall.stats();
    expect(s.drawn).toEqual({ 5: 2 });
    expect(closed.length).toBe(2);
    expect(paints.length).toBe(2);
  });

  it("keeps screens apart from cameras", () => {
    const { wall, paints } = setup();
    wall.handle(unit(5, FLAG_KEYFRAME | FLAG_SCREEN, SPS_KEYFRAME));
    paints[0]?.();
    expect(Object.keys(wall.stats().decoders)).toEqual([String(tileKey(5, true))]);
    expect(wall.screenCanvasFor(5)).not.toBe(wall.canvasFor(5));
    expect(wall.screenCanvasFor(5).dataset["participantId"]).toBe("5");
    expect(wall.hasScreen(5)).toBe(true);
    expect(wall.hasScreen(6)).toBe(false);
  });

  it("after a decoder failure waits for a keyframe and asks for one", () => {
    const { wall, asked } = setup();
    wall.handle(unit(7, FLAG_KEYFRAME, SPS_KEYFRAME));
    FakeDecoder.failNext = true;
    wall.handle(unit(7, 0, [0, 0, 1, 0x41]));
    wall.handle(unit(7, 0, [0, 0, 1, 0x41]));
    expect(wall.stats().decoders[7]).toMatchObject({ errors: 1, skipped: 1, decoded: 1 });
    expect(asked).toEqual([[7, false]]);
    wall.handle(unit(7, FLAG_KEYFRAME, SPS_KEYFRAME));
    wall.handle(unit(7, 0, [0, 0, 1, 0x41]));
    expect(wall.stats().decoders[7]).toMatchObject({ decoded: 3 });
  });

  it("asks for pictures instead when the page cannot decode", () => {
    const wall = new VideoWall(() => undefined, { decoders: null });
    expect(wall.decodesH264).toBe(false);
    wall.handle(unit(1, FLAG_KEYFRAME, SPS_KEYFRAME));
    expect(wall.stats().decoders[1]).toMatchObject({ decoded: 0, errors: 1 });
  });

  it("closes its decoders when the meeting ends", () => {
    const { wall } = setup();
    wall.handle(unit(5, FLAG_KEYFRAME, SPS_KEYFRAME));
    wall.clear();
    expect(wall.stats().decoders).toEqual({});
  });
});
