import { describe, expect, it } from "vitest";
import { HEADER_LEN, i420ToRgba, unpack } from "./video_wall";

function message(participant: number, w: number, h: number, y: number, u: number, v: number): ArrayBuffer {
  const luma = w * h;
  const chroma = (w / 2) * (h / 2);
  const buf = new ArrayBuffer(HEADER_LEN + luma + 2 * chroma);
  const view = new DataView(buf);
  [participant, w, h, 3000].forEach((x, i) => view.setUint32(i * 4, x, true));
  const bytes = new Uint8Array(buf);
  bytes.fill(y, HEADER_LEN, HEADER_LEN + luma);
  bytes.fill(u, HEADER_LEN + luma, HEADER_LEN + luma + chroma);
  bytes.fill(v, HEADER_LEN + luma + chroma);
  return buf;
}

describe("unpack", () => {
  it("reads the header and slices the planes", () => {
    const p = unpack(message(7, 4, 2, 16, 128, 128));
    expect(p).toMatchObject({ participant: 7, width: 4, height: 2, timestamp: 3000 });
    expect([p?.y.length, p?.u.length, p?.v.length]).toEqual([8, 2, 2]);
  });

  it("refuses truncated or mis-sized messages", () => {
    expect(unpack(new ArrayBuffer(8))).toBeNull();
    expect(unpack(message(1, 4, 2, 0, 0, 0).slice(0, 20))).toBeNull();
  });
});

describe("i420ToRgba", () => {
  it("turns video black, white and red into RGB", () => {
    const out = new Uint8ClampedArray(4 * 2 * 4);
    const convert = (y: number, u: number, v: number) => {
      const p = unpack(message(1, 4, 2, y, u, v));
      if (p === null) throw new Error("bad message");
      i420ToRgba(p, out);
      return [...out.slice(0, 4)];
    };
    expect(convert(16, 128, 128)).toEqual([0, 0, 0, 255]);
    expect(convert(235, 128, 128)).toEqual([255, 255, 255, 255]);
    const [r, g, b] = convert(81, 90, 240);
    expect(r).toBeGreaterThan(250);
    expect(g).toBeLessThan(5);
    expect(b).toBeLessThan(5);
  });
});
