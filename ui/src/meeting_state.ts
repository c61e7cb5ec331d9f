/**
 * The meeting in progress as the UI sees it, and the one pure function
 * that folds each `meeting` event from the shell into it. Views only draw
 * this state; they never keep meeting facts of their own.
 */

import type { ConnectionQuality, EndKind, Encryption, MeetingUpdate, Participant, WaitingPerson } from "./bindings";

/** Where one of our own messages is: shown at once as `sending`, then
 * `delivered` when the router's echo of it arrives. Others' lines are
 * always `delivered`. */
export type Delivery = "sending" | "delivered";

/** One chat line. */
export interface ChatLine {
  /** The router's message number; negative for ours not yet echoed. */
  id: number;
  from: number;
  fromName: string;
  /** The one recipient of a private message. */
  to: number | null;
  text: string;
  own: boolean;
  /** Sealed end to end (the router relayed only ciphertext). */
  e2e: boolean;
  delivery: Delivery;
}

/** The connection as the last `status` event described it. */
export interface ConnectionStatus {
  rttMs: number | null;
  lossPercent: number;
  quality: ConnectionQuality;
  reconnecting: boolean;
}

/** A reaction to float over the sender's tile for a few seconds. */
export interface Reaction {
  /** Increases with every reaction, so a view can tell new ones apart. */
  key: number;
  from: number;
  fromName: string;
  emoji: string;
}

/** How the tiles are laid out. */
export type Layout = "gallery" | "speaker";

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
  /** In E2E meetings, the code participants compare aloud, once known. */
  securityCode: string | null;
  /** Key rotations seen (E2E meetings). */
  keyEpochs: number;
  /** Null until the first `status` event. */
  connection: ConnectionStatus | null;
  /** The latest audio level per participant id, 0..1. */
  levels: Record<number, number>;
  /** Who speaks loudest now; kept after they stop, for speaker view. */
  activeSpeaker: number | null;
  /** The latest reactions, oldest first (at most {@link MAX_REACTIONS}). */
  reactions: Reaction[];
  layout: Layout;
  /** The gallery page shown (0-based), when more than one page. */
  page: number;
}

/** Most notices kept (older ones scroll away). */
export const MAX_NOTICES = 3;

/** Most reactions kept; older ones have long stopped showing. */
export const MAX_REACTIONS = 12;

/** Tiles per gallery page. */
export const PAGE_SIZE = 25;

/** A level above which a participant counts as speaking. */
export const SPEAKING_LEVEL = 0.05;

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
    securityCode: null,
    keyEpochs: 0,
    connection: null,
    levels: {},
    activeSpeaker: null,
    reactions: [],
    layout: "gallery",
    page: 0,
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
    case "participant_left": {
      const left: MeetingState = {
        ...state,
        participants: state.participants.filter((p) => p.id !== update.id),
        activeSpeaker: state.activeSpeaker === update.id ? null : state.activeSpeaker,
      };
      // The last page may have emptied.
      return setPage(left, left.page);
    }
    case "chat": {
      if (state.chat.some((c) => c.id === update.id)) return state;
      const line: ChatLine = {
        id: update.id,
        from: update.from,
        fromName: update.fromName,
        to: update.to,
        text: update.text,
        own: update.own,
        e2e: update.e2e,
        delivery: "delivered",
      };
      if (update.own) {
        // The router's echo of a line we sent: it takes the pending line's
        // place (the oldest one with the same text and recipient).
        const at = state.chat.findIndex((c) => c.delivery === "sending" && c.text === update.text && c.to === update.to);
        if (at !== -1) {
          const chat = [...state.chat];
          chat[at] = line;
          return { ...state, chat };
        }
      }
      const unread = state.panel === "chat" || update.own ? state.unread : state.unread + 1;
      return { ...state, chat: [...state.chat, line], unread };
    }
    case "reaction": {
      const key = (state.reactions.at(-1)?.key ?? 0) + 1;
      const reaction: Reaction = { key, from: update.from, fromName: update.fromName, emoji: update.emoji };
      return { ...state, reactions: [...state.reactions, reaction].slice(-MAX_REACTIONS) };
    }
    case "status":
      return {
        ...state,
        securityCode: update.securityCode,
        keyEpochs: update.keyEpochs,
        connection: {
          rttMs: update.rttMs,
          lossPercent: update.lossPercent,
          quality: update.quality,
          reconnecting: update.reconnecting,
        },
      };
    case "levels": {
      const levels: Record<number, number> = {};
      for (const l of update.levels) levels[l.id] = l.level;
      return { ...state, levels, activeSpeaker: update.activeSpeaker ?? state.activeSpeaker };
    }
    case "waiting_room":
      return { ...state, waiting: update.waiting };
    case "notice":
      return { ...state, notices: [...state.notices, update.text].slice(-MAX_NOTICES) };
    case "ended":
      return { ...state, phase: "ended", ended: { kind: update.kind, reason: update.reason } };
  }
}

/** Shows one of our messages at once, as `sending`, until its echo arrives. */
export function addPendingChat(state: MeetingState, to: number | null, text: string): MeetingState {
  const me = self(state);
  const id = Math.min(0, ...state.chat.map((c) => c.id)) - 1;
  const line: ChatLine = {
    id,
    from: state.selfId ?? 0,
    fromName: me?.name ?? "",
    to,
    text,
    own: true,
    e2e: state.encryption === "end_to_end",
    delivery: "sending",
  };
  return { ...state, chat: [...state.chat, line] };
}

/** Drops a pending line whose send failed (the text goes back in the box). */
export function dropPendingChat(state: MeetingState, id: number): MeetingState {
  return { ...state, chat: state.chat.filter((c) => c.id !== id) };
}

/** Switches between gallery and speaker view. */
export function setLayout(state: MeetingState, layout: Layout): MeetingState {
  return state.layout === layout ? state : { ...state, layout };
}

/** How many gallery pages there are. */
export function pageCount(state: MeetingState): number {
  return Math.max(1, Math.ceil(state.participants.length / PAGE_SIZE));
}

/** Shows gallery page `page`, clamped to the pages there are. */
export function setPage(state: MeetingState, page: number): MeetingState {
  const clamped = Math.max(0, Math.min(pageCount(state) - 1, page));
  return clamped === state.page ? state : { ...state, page: clamped };
}

/** Whether a participant's level says they are speaking now. */
export function isSpeaking(state: MeetingState, id: number): boolean {
  return (state.levels[id] ?? 0) >= SPEAKING_LEVEL;
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
