import { describe, expect, it } from "vitest";
import type { MeetingUpdate, Participant } from "./bindings";
import {
  addPendingChat,
  applyUpdate,
  connectingMeeting,
  dropPendingChat,
  initials,
  isHost,
  isSpeaking,
  MAX_NOTICES,
  MAX_REACTIONS,
  pageCount,
  self,
  setLayout,
  setPage,
  togglePanel,
} from "./meeting_state";

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
    const chat: Extract<MeetingUpdate, { type: "chat" }> = { type: "chat", id: 1, from: 2, fromName: "Bo", to: null, text: "hi", own: false, e2e: true };
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

describe("chat delivery", () => {
  it("shows our message as sending, then delivered when the router echoes it", () => {
    let s = addPendingChat(fold(joined), 2, "psst");
    expect(s.chat).toEqual([expect.objectContaining({ text: "psst", to: 2, own: true, delivery: "sending", e2e: true })]);
    expect(s.chat[0]?.id).toBeLessThan(0);
    // Someone else's message with the same text does not confirm ours.
    s = applyUpdate(s, { type: "chat", id: 7, from: 2, fromName: "Bo", to: 2, text: "psst", own: false, e2e: true });
    expect(s.chat.map((c) => c.delivery)).toEqual(["sending", "delivered"]);
    s = applyUpdate(s, { type: "chat", id: 8, from: 1, fromName: "Ada", to: 2, text: "psst", own: true, e2e: true });
    expect(s.chat.map((c) => [c.id, c.delivery])).toEqual([
      [8, "delivered"],
      [7, "delivered"],
    ]);
    expect(s.unread).toBe(1);
  });

  it("drops a pending line whose send failed, and keeps echoes without one", () => {
    let s = addPendingChat(fold(joined), null, "a");
    s = addPendingChat(s, null, "b");
    const ids = s.chat.map((c) => c.id);
    expect(new Set(ids).size).toBe(2);
    s = dropPendingChat(s, ids[0] ?? 0);
    expect(s.chat.map((c) => c.text)).toEqual(["b"]);
    s = applyUpdate(s, { type: "chat", id: 3, from: 1, fromName: "Ada", to: null, text: "from another device", own: true, e2e: false });
    expect(s.chat.map((c) => [c.text, c.delivery, c.e2e])).toEqual([
      ["b", "sending", true],
      ["from another device", "delivered", false],
    ]);
  });
});

describe("status, levels and reactions", () => {
  it("keeps the security code and connection quality from status", () => {
    const s = fold(joined, {
      type: "status",
      securityCode: "0421 9930 1877",
      keyEpochs: 2,
      rttMs: 40,
      lossPercent: 1.5,
      quality: "good",
      reconnecting: false,
    });
    expect(s.securityCode).toBe("0421 9930 1877");
    expect(s.keyEpochs).toBe(2);
    expect(s.connection).toEqual({ rttMs: 40, lossPercent: 1.5, quality: "good", reconnecting: false });
  });

  it("tracks levels and keeps the last active speaker until they leave", () => {
    let s = fold(joined, { type: "levels", levels: [{ id: 2, level: 0.4 }, { id: 1, level: 0.01 }], activeSpeaker: 2 });
    expect(isSpeaking(s, 2)).toBe(true);
    expect(isSpeaking(s, 1)).toBe(false);
    expect(s.activeSpeaker).toBe(2);
    s = applyUpdate(s, { type: "levels", levels: [], activeSpeaker: null });
    expect(isSpeaking(s, 2)).toBe(false);
    expect(s.activeSpeaker).toBe(2);
    s = applyUpdate(s, { type: "participant_left", id: 2, reason: "left" });
    expect(s.activeSpeaker).toBeNull();
  });

  it("numbers reactions and keeps only the latest", () => {
    const react = (i: number): MeetingUpdate => ({ type: "reaction", from: 2, fromName: "Bo", emoji: i % 2 ? "👍" : "🎉" });
    const s = fold(joined, ...Array.from({ length: MAX_REACTIONS + 3 }, (_, i) => react(i)));
    expect(s.reactions).toHaveLength(MAX_REACTIONS);
    const keys = s.reactions.map((r) => r.key);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(new Set(keys).size).toBe(MAX_REACTIONS);
    expect(s.reactions.at(-1)).toMatchObject({ from: 2, fromName: "Bo" });
  });
});

describe("layout and paging", () => {
  it("pages 25 tiles at a time and clamps the page", () => {
    const many: MeetingUpdate = { ...joined, participants: Array.from({ length: 60 }, (_, i) => person(i + 1, `P${i + 1}`)) } as MeetingUpdate;
    let s = fold(many);
    expect(pageCount(s)).toBe(3);
    s = setPage(s, 9);
    expect(s.page).toBe(2);
    s = setPage(s, -1);
    expect(s.page).toBe(0);
    s = setPage(s, 2);
    for (let id = 60; id > 45; id--) s = applyUpdate(s, { type: "participant_left", id, reason: "left" });
    expect(pageCount(s)).toBe(2);
    expect(s.page).toBe(1);
    expect(setLayout(s, "speaker").layout).toBe("speaker");
    expect(setLayout(s, "gallery")).toBe(s);
  });
});

describe("initials", () => {
  it("takes the first letters of two words", () => {
    expect(initials("ada lovelace king")).toBe("AL");
    expect(initials("  ")).toBe("?");
    expect(initials("Ève")).toBe("È");
  });
});
