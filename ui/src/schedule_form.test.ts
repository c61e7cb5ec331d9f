import { describe, expect, it } from "vitest";
import type { ScheduledMeeting } from "./bindings";
import { emptySchedule, fieldsFor, localInputValue, toSettings } from "./schedule_form";

describe("toSettings", () => {
  it("sends every security setting and leaves blanks out", () => {
    const r = toSettings({ ...emptySchedule(), topic: "  Sync ", waitingRoom: true, e2e: true, joinBeforeHost: false });
    expect(r).toEqual({
      ok: true,
      settings: {
        topic: "Sync",
        passcode: null,
        startTime: null,
        durationMinutes: null,
        waitingRoom: true,
        joinBeforeHost: false,
        e2e: true,
      },
    });
  });

  it("turns the local start time into Unix seconds and checks the duration", () => {
    const start = localInputValue(1_800_000_000);
    const r = toSettings({ ...emptySchedule(), start, duration: "45" });
    expect(r.ok && r.settings.startTime).toBe(Math.floor(1_800_000_000 / 60) * 60);
    expect(r.ok && r.settings.durationMinutes).toBe(45);
    expect(toSettings({ ...emptySchedule(), duration: "0" })).toMatchObject({ ok: false, field: "duration" });
    expect(toSettings({ ...emptySchedule(), duration: "2.5" })).toMatchObject({ ok: false });
  });

  it("sends an empty passcode to remove one", () => {
    const r = toSettings({ ...emptySchedule(), passcode: "x", clearPasscode: true });
    expect(r.ok && r.settings.passcode).toBe("");
  });

  it("refuses an overlong topic", () => {
    expect(toSettings({ ...emptySchedule(), topic: "x".repeat(201) })).toMatchObject({ ok: false, field: "topic" });
  });
});

describe("fieldsFor", () => {
  it("fills the form for editing without revealing a passcode", () => {
    const m: ScheduledMeeting = {
      meetingId: 1,
      topic: "Plan",
      hasPasscode: true,
      startTime: null,
      durationMinutes: 30,
      waitingRoom: true,
      joinBeforeHost: false,
      e2e: true,
      inviteUrl: null,
    };
    expect(fieldsFor(m)).toMatchObject({ topic: "Plan", duration: "30", passcode: "", waitingRoom: true, e2e: true });
  });
});
