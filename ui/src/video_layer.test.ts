import { describe, expect, it } from "vitest";
import { LayerChooser, layerFor } from "./video_layer";

describe("layerFor", () => {
  it("asks small tiles for the small layer and the speaker for the largest", () => {
    expect(layerFor(176)).toBe("low");
    expect(layerFor(400)).toBe("low");
    expect(layerFor(530)).toBe("medium");
    expect(layerFor(1068)).toBe("high");
    // Device pixels count: a 300-px tile on a 2× screen is 600 wide.
    expect(layerFor(300, 2)).toBe("medium");
    expect(layerFor(0)).toBe("medium");
  });
});

describe("LayerChooser", () => {
  it("asks once per change", () => {
    const c = new LayerChooser();
    expect(c.choose(2, "low")).toBe("low");
    expect(c.choose(2, "low")).toBeNull();
    expect(c.choose(3, "low")).toBe("low");
    expect(c.choose(2, "high")).toBe("high");
    c.clear();
    expect(c.choose(2, "high")).toBe("high");
  });

  it("forgets people who left, and asks afresh if their id comes back", () => {
    const c = new LayerChooser();
    c.choose(2, "low");
    c.choose(3, "medium");
    c.retain([3, 4]);
    expect(c.size).toBe(1);
    expect(c.choose(3, "medium")).toBeNull();
    expect(c.choose(2, "low")).toBe("low");
  });
});
