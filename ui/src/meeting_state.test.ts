import { describe, expect, it } from "vitest";
import type { MeetingUpdate, Participant } from "./bindings";
import { applyUpdate, connectingMeeting, initials, isHost, MAX_NOTICES, self, togglePanel } from "./meeting_state";

function person(id: number, name: string, extra: Partial<Participant> = {}): Participant {
  return {
    id,
    name,
    role: "participant",
    guest: false,
    external: false,
    muted: false,
    video: false,
    handRaised: false,
    sharing: false,
    recording: false,
    ...extra,
  };
}

function fold(...updates: MeetingUpdate[]) {
  return updates.reduce(applyUpdate, connectingMeeting());
}

const joined: MeetingUpdate = {
  type: "joined",
  meetingId: 482193765,
  selfId: 1,
  encryption: "end_to_end",
  participants: [person(2, "Bo"), person(1, "Ada", { role: "host" })],
};

describe("applyUpdate", () => {
  it("takes the roster from joined, in id order, and knows who we are", () => {
    const s = fold({ type: "connected", transport: "quic" }, joined);
    expect(s.phase).toBe("joined");
    expect(s.transport).toBe("quic");
    expect(s.participants.map((p) => p.name)).toEqual(["Ada", "Bo"]);
    expect(self(s)?.name).toBe("Ada");
    expect(isHost(s)).toBe(true);
    expect(s.encryption).toBe("end_to_end");
  });

  it("adds, updates and removes participants", () => {
    const s = fold(
      joined,
      { type: "participant", participant: person(3, "Cy") },
      { type: "participant", participant: person(2, "Bo", { muted: true }) },
      { type: "participant_left", id: 1, reason: "left" },
    );
    expect(s.participants.map((p) => [p.name, p.muted])).toEqual([
      ["Bo", true],
      ["Cy", false],
    ]);
    expect(self(s)).toBeUndefined();
    expect(isHost(s)).toBe(false);
  });

  it("counts unread chat only while the chat panel is closed, and drops repeats", () => {
    const chat: MeetingUpdate = { type: "chat", id: 1, from: 2, fromName: "Bo", to: null, text: "hi", own: false };
    let s = fold(joined, chat, chat);
    expect(s.chat).toHaveLength(1);
    expect(s.unread).toBe(1);
    s = togglePanel(s, "chat");
    expect(s.unread).toBe(0);
    s = applyUpdate(s, { ...chat, id: 2 });
    expect(s.unread).toBe(0);
    expect(togglePanel(s, "chat").panel).toBe("none");
  });

  it("keeps only the latest notices", () => {
    const notices = Array.from({ length: 5 }, (_, i): MeetingUpdate => ({ type: "notice", text: `n${i}` }));
    expect(fold(...notices).notices).toEqual(["n2", "n3", "n4"].slice(-MAX_NOTICES));
  });

  it("shows waiting, then the end with its reason", () => {
    let s = fold({ type: "waiting", reason: "Waiting for a host to let you in." });
    expect(s.phase).toBe("waiting");
    s = applyUpdate(s, { type: "ended", kind: "refused", reason: "Not admitted." });
    expect(s.phase).toBe("ended");
    expect(s.ended).toEqual({ kind: "refused", reason: "Not admitted." });
  });
});

describe("initials", () => {
  it("takes the first letters of two words", () => {
    expect(initials("ada lovelace king")).toBe("AL");
    expect(initials("  ")).toBe("?");
    expect(initials("Ève")).toBe("È");
  });
});
