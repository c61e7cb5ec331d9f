import { describe, expect, it } from "vitest";
import {
  caretAfterDigits,
  describeMeetingIdProblem,
  formatMeetingId,
  parseMeetingId,
} from "./meeting_id";

describe("parseMeetingId", () => {
  it("accepts 9 to 11 digits, with or without separators", () => {
    expect(parseMeetingId("482193765")).toEqual({ ok: true, digits: "482193765" });
    expect(parseMeetingId("482 193 7650")).toEqual({ ok: true, digits: "4821937650" });
    expect(parseMeetingId(" 482-1937-6501 ")).toEqual({ ok: true, digits: "48219376501" });
  });

  it("names what is wrong with everything else", () => {
    expect(parseMeetingId("")).toEqual({ ok: false, problem: "empty" });
    expect(parseMeetingId("   ")).toEqual({ ok: false, problem: "empty" });
    expect(parseMeetingId("48219376a")).toEqual({ ok: false, problem: "not-digits" });
    expect(parseMeetingId("４８２１９３７６５")).toEqual({ ok: false, problem: "not-digits" });
    expect(parseMeetingId("048219376")).toEqual({ ok: false, problem: "leading-zero" });
    expect(parseMeetingId("48219376")).toEqual({ ok: false, problem: "too-short" });
    expect(parseMeetingId("482193765012")).toEqual({ ok: false, problem: "too-long" });
  });

  it("has a message for every problem", () => {
    for (const p of ["empty", "not-digits", "leading-zero", "too-short", "too-long"] as const) {
      expect(describeMeetingIdProblem(p)).toMatch(/\S/);
    }
  });
});

describe("formatMeetingId", () => {
  it("groups complete ids for reading aloud", () => {
    expect(formatMeetingId("482193765")).toBe("482 193 765");
    expect(formatMeetingId("4821937650")).toBe("482 193 7650");
    expect(formatMeetingId("48219376501")).toBe("482 1937 6501");
  });

  it("formats partial input while typing and drops non-digits", () => {
    expect(formatMeetingId("")).toBe("");
    expect(formatMeetingId("48")).toBe("48");
    expect(formatMeetingId("4821")).toBe("482 1");
    expect(formatMeetingId("482-19a3 76")).toBe("482 193 76");
    expect(formatMeetingId("4821937650123")).toBe("482 1937 6501");
  });

  it("round-trips through parse", () => {
    const shown = formatMeetingId("4821937650");
    expect(parseMeetingId(shown)).toEqual({ ok: true, digits: "4821937650" });
  });
});

describe("caretAfterDigits", () => {
  it("keeps the caret after the same digit", () => {
    expect(caretAfterDigits("482 193 7650", 0)).toBe(0);
    expect(caretAfterDigits("482 193 7650", 3)).toBe(3);
    expect(caretAfterDigits("482 193 7650", 4)).toBe(5);
    expect(caretAfterDigits("482 193 7650", 10)).toBe(12);
    expect(caretAfterDigits("482", 7)).toBe(3);
  });
});
