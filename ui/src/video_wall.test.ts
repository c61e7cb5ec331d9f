// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { HEADER_LEN, LatestFrames, unpack, unpackAll, VideoWall } from "./video_wall";

function message(participant: number, w: number, h: number, y: number, u: number, v: number): ArrayBuffer {
  const luma = w * h;
  const chroma = Math.ceil(w / 2) * Math.ceil(h / 2);
  const buf = new ArrayBuffer(HEADER_LEN + luma + 2 * chroma);
  const view = new DataView(buf);
  [participant, w, h, 3000].forEach((x, i) => view.setUint32(i * 4, x, true));
  const bytes = new Uint8Array(buf);
  bytes.fill(y, HEADER_LEN, HEADER_LEN + luma);
  bytes.fill(u, HEADER_LEN + luma, HEADER_LEN + luma + chroma);
  bytes.fill(v, HEADER_LEN + luma + chroma);
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
    expect(unpack(message(1, 4, 2, 0, 0, 0).slice(0, 20))).toBeNull();
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
    expect(paints.length).toBe(1);
    const s = wall.stats();
    expect([s.received, s.pictures, s.malformed]).toEqual([2, 3, 0]);
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

  it("keeps a participant's canvas across calls and forgets it on clear", () => {
    const wall = new VideoWall(() => undefined);
    const canvas = wall.canvasFor(3);
    expect(wall.canvasFor(3)).toBe(canvas);
    expect(canvas.hidden).toBe(true);
    wall.clear();
    expect(wall.canvasFor(3)).not.toBe(canvas);
  });
});
