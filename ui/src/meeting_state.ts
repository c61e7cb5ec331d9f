/**
 * The meeting in progress as the UI sees it, and the one pure function
 * that folds each `meeting` event from the shell into it. Views only draw
 * this state; they never keep meeting facts of their own.
 */

import type { EndKind, Encryption, MeetingUpdate, Participant, WaitingPerson } from "./bindings";

/** One chat line. */
export interface ChatLine {
  id: number;
  from: number;
  fromName: string;
  /** The one recipient of a private message. */
  to: number | null;
  text: string;
  own: boolean;
}

/** Where the meeting is in its life. */
export type MeetingPhase = "connecting" | "waiting" | "joined" | "ended";

/** Which side panel is open. */
export type SidePanel = "none" | "chat" | "participants";

/** Everything the meeting screen draws. */
export interface MeetingState {
  phase: MeetingPhase;
  meetingId: number | null;
  selfId: number | null;
  encryption: Encryption;
  /** `quic` or `tls` once connected. */
  transport: string | null;
  /** Present participants in join order, ourselves included. */
  participants: Participant[];
  /** People in the waiting room (hosts see them). */
  waiting: WaitingPerson[];
  chat: ChatLine[];
  /** The latest notices, newest last. */
  notices: string[];
  /** Why we are held, while waiting. */
  waitingReason: string | null;
  ended: { kind: EndKind; reason: string } | null;
  panel: SidePanel;
  /** Chat messages that arrived while the chat panel was closed. */
  unread: number;
}

/** Most notices kept (older ones scroll away). */
export const MAX_NOTICES = 3;

/** The state right after asking to join. */
export function connectingMeeting(): MeetingState {
  return {
    phase: "connecting",
    meetingId: null,
    selfId: null,
    encryption: "transport",
    transport: null,
    participants: [],
    waiting: [],
    chat: [],
    notices: [],
    waitingReason: null,
    ended: null,
    panel: "none",
    unread: 0,
  };
}

function upsert(list: Participant[], p: Participant): Participant[] {
  const at = list.findIndex((x) => x.id === p.id);
  if (at === -1) return [...list, p].sort((a, b) => a.id - b.id);
  const next = [...list];
  next[at] = p;
  return next;
}

/** Folds one shell event into the meeting state. */
export function applyUpdate(state: MeetingState, update: MeetingUpdate): MeetingState {
  switch (update.type) {
    case "connected":
      return { ...state, transport: update.transport };
    case "waiting":
      return { ...state, phase: "waiting", waitingReason: update.reason };
    case "joined":
      return {
        ...state,
        phase: "joined",
        waitingReason: null,
        meetingId: update.meetingId,
        selfId: update.selfId,
        encryption: update.encryption,
        participants: [...update.participants].sort((a, b) => a.id - b.id),
      };
    case "participant":
      return { ...state, participants: upsert(state.participants, update.participant) };
    case "participant_left":
      return { ...state, participants: state.participants.filter((p) => p.id !== update.id) };
    case "chat": {
      if (state.chat.some((c) => c.id === update.id)) return state;
      const line: ChatLine = {
        id: update.id,
        from: update.from,
        fromName: update.fromName,
        to: update.to,
        text: update.text,
        own: update.own,
      };
      const unread = state.panel === "chat" || update.own ? state.unread : state.unread + 1;
      return { ...state, chat: [...state.chat, line], unread };
    }
    case "waiting_room":
      return { ...state, waiting: update.waiting };
    case "notice":
      return { ...state, notices: [...state.notices, update.text].slice(-MAX_NOTICES) };
    case "ended":
      return { ...state, phase: "ended", ended: { kind: update.kind, reason: update.reason } };
  }
}

/** Opens a side panel (or closes it when already open). */
export function togglePanel(state: MeetingState, panel: Exclude<SidePanel, "none">): MeetingState {
  const next = state.panel === panel ? "none" : panel;
  return { ...state, panel: next, unread: next === "chat" ? 0 : state.unread };
}

/** Our own roster line, once joined. */
export function self(state: MeetingState): Participant | undefined {
  return state.participants.find((p) => p.id === state.selfId);
}

/** Whether we may use host controls (hosts and co-hosts). */
export function isHost(state: MeetingState): boolean {
  const me = self(state);
  return me !== undefined && me.role !== "participant";
}

/** Initials for an avatar: first letters of the first two words. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => [...w][0]?.toUpperCase() ?? "");
  return letters.join("") || "?";
}
