// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { CanvasRenderer, chooseRenderer, createRenderer, i420ToRgba, planeSizes, TextureSizes } from "./gl_renderer";

describe("chooseRenderer", () => {
  const all = { webgl2: true, webgl: true, contextLost: false };
  it("prefers WebGL2, then WebGL1, then 2D", () => {
    expect(chooseRenderer("auto", all)).toBe("webgl2");
    expect(chooseRenderer("auto", { ...all, webgl2: false })).toBe("webgl");
    expect(chooseRenderer("auto", { ...all, webgl2: false, webgl: false })).toBe("2d");
  });

  it("stays on 2D after a lost context, or when asked to", () => {
    expect(chooseRenderer("auto", { ...all, contextLost: true })).toBe("2d");
    expect(chooseRenderer("2d", all)).toBe("2d");
  });
});

describe("planeSizes", () => {
  it("rounds chroma up for odd sizes", () => {
    expect(planeSizes(640, 360)).toEqual({ luma: [640, 360], chroma: [320, 180] });
    expect(planeSizes(5, 3)).toEqual({ luma: [5, 3], chroma: [3, 2] });
  });
});

describe("TextureSizes", () => {
  it("allocates on the first picture and on size changes only", () => {
    const sizes = new TextureSizes();
    expect(sizes.needsAllocation(640, 360)).toBe(true);
    expect(sizes.needsAllocation(640, 360)).toBe(false);
    expect(sizes.needsAllocation(320, 180)).toBe(true);
    expect(sizes.needsAllocation(320, 180)).toBe(false);
    expect(sizes.allocations).toBe(2);
  });

  it("allocates again after a reset (new context)", () => {
    const sizes = new TextureSizes();
    sizes.needsAllocation(4, 2);
    sizes.reset();
    expect(sizes.needsAllocation(4, 2)).toBe(true);
  });
});

describe("createRenderer", () => {
  it("falls back to the 2D path where WebGL is unavailable", () => {
    // happy-dom has no WebGL.
    expect(createRenderer(document.createElement("canvas"), "auto", false)).toBeInstanceOf(CanvasRenderer);
    expect(createRenderer(document.createElement("canvas"), "2d", false).kind).toBe("2d");
  });
});

describe("i420ToRgba", () => {
  const frame = (y: number, u: number, v: number) => ({
    width: 4,
    height: 2,
    y: new Uint8Array(8).fill(y),
    u: new Uint8Array(2).fill(u),
    v: new Uint8Array(2).fill(v),
  });
  const convert = (y: number, u: number, v: number) => {
    const out = new Uint8ClampedArray(4 * 2 * 4);
    i420ToRgba(frame(y, u, v), out);
    return [...out.slice(0, 4)];
  };

  it("turns video black, white and red into RGB", () => {
    expect(convert(16, 128, 128)).toEqual([0, 0, 0, 255]);
    expect(convert(235, 128, 128)).toEqual([255, 255, 255, 255]);
    const [r, g, b] = convert(81, 90, 240);
    expect(r).toBeGreaterThan(250);
    expect(g).toBeLessThan(5);
    expect(b).toBeLessThan(5);
  });

  it("fills every pixel of an odd-sized picture", () => {
    const out = new Uint8ClampedArray(5 * 3 * 4);
    i420ToRgba(
      { width: 5, height: 3, y: new Uint8Array(15).fill(235), u: new Uint8Array(6).fill(128), v: new Uint8Array(6).fill(128) },
      out,
    );
    expect(out.every((x) => x === 255)).toBe(true);
  });
});
