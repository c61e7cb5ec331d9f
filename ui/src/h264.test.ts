import { describe, expect, it } from "vitest";
import { codecOf } from "./h264";

describe("codecOf", () => {
  it("reads profile, constraints and level from the SPS", () => {
    // An access unit delimiter, then an SPS: Constrained Baseline (0x42, 0xc0), level 3.0 (0x1e).
    const au = new Uint8Array([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0x8c, 0, 0, 1, 0x68]);
    expect(codecOf(au)).toBe("avc1.42c01e");
    // Three-byte start codes too, and High profile.
    expect(codecOf(new Uint8Array([0, 0, 1, 0x27, 0x64, 0x00, 0x28, 0xac]))).toBe("avc1.640028");
  });

  it("is null without an SPS or when it is cut short", () => {
    expect(codecOf(new Uint8Array([0, 0, 0, 1, 0x41, 0x9a]))).toBeNull();
    expect(codecOf(new Uint8Array([0, 0, 1, 0x67, 0x42]))).toBeNull();
    expect(codecOf(new Uint8Array([]))).toBeNull();
  });
});
