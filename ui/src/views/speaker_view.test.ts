import { describe, expect, it } from "vitest";
import type { MeetingUpdate, Participant } from "../bindings";
import { applyUpdate, connectingMeeting, type MeetingState, setLayout, setPage } from "../meeting_state";
import { arrange, gridFor, mainSpeaker } from "./speaker_view";

function person(id: number, extra: Partial<Participant> = {}): Participant {
  return { id, name: `P${id}`, role: "participant", guest: false, external: false, muted: false, video: false, handRaised: false, sharing: false, recording: false, ...extra };
}

function meeting(count: number, selfId = 5): MeetingState {
  const joined: MeetingUpdate = { type: "joined", meetingId: 1, selfId, encryption: "transport", participants: Array.from({ length: count }, (_, i) => person(i + 1)) };
  return applyUpdate(connectingMeeting(), joined);
}

describe("arrange", () => {
  it("puts ourselves first and pages the gallery", () => {
    const s = meeting(30);
    const first = arrange(s);
    expect(first.main).toBeNull();
    expect(first.shown.map((p) => p.id).slice(0, 3)).toEqual([5, 1, 2]);
    expect(first.shown).toHaveLength(25);
    expect(arrange(setPage(s, 1)).shown.map((p) => p.id)).toEqual([26, 27, 28, 29, 30]);
  });

  it("shows the active speaker large, even from another page", () => {
    let s = setLayout(meeting(30), "speaker");
    expect(mainSpeaker(s)).toBe(1);
    s = applyUpdate(s, { type: "levels", levels: [{ id: 28, level: 0.5 }], activeSpeaker: 28 });
    const a = arrange(s);
    expect(a.main).toBe(28);
    expect(a.shown).toHaveLength(26);
    expect(a.shown.at(-1)?.id).toBe(28);
  });

  it("prefers someone sharing when nobody speaks, and falls back to ourselves alone", () => {
    const s = applyUpdate(meeting(3), { type: "participant", participant: person(3, { sharing: true }) });
    expect(mainSpeaker(s)).toBe(3);
    expect(mainSpeaker(meeting(1, 1))).toBe(1);
  });
});

describe("gridFor", () => {
  it("fits the page's tiles in a near-square grid", () => {
    expect(gridFor(0)).toEqual({ cols: 1, rows: 1 });
    expect(gridFor(2)).toEqual({ cols: 2, rows: 1 });
    expect(gridFor(4)).toEqual({ cols: 2, rows: 2 });
    expect(gridFor(5)).toEqual({ cols: 3, rows: 2 });
    expect(gridFor(10)).toEqual({ cols: 4, rows: 3 });
    expect(gridFor(25)).toEqual({ cols: 5, rows: 5 });
  });
});
