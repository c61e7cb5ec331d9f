/**
 * The schedule form's rules, free of the DOM: what the fields hold, how
 * they become the shell's `MeetingSettings`, and how a meeting fills the
 * form back for editing.
 */

import type { MeetingSettings, ScheduledMeeting } from "./bindings";

/** What the schedule form's fields hold, as typed. */
export interface ScheduleFields {
  topic: string;
  /** `YYYY-MM-DDTHH:MM` in local time (a `datetime-local` value), or "". */
  start: string;
  /** Minutes, as typed, or "". */
  duration: string;
  /** A new passcode; "" keeps the current one (or none for a new meeting). */
  passcode: string;
  /** Remove the current passcode (editing only). */
  clearPasscode: boolean;
  waitingRoom: boolean;
  joinBeforeHost: boolean;
  e2e: boolean;
}

/** Empty fields, with the safer defaults on: a waiting room, no early join. */
export function emptySchedule(): ScheduleFields {
  return {
    topic: "",
    start: "",
    duration: "",
    passcode: "",
    clearPasscode: false,
    waitingRoom: false,
    joinBeforeHost: true,
    e2e: false,
  };
}

/** Longest topic, in characters (the shell checks too). */
export const MAX_TOPIC = 200;

/** The settings to send, or the problem to show. */
export function toSettings(
  f: ScheduleFields,
): { ok: true; settings: MeetingSettings } | { ok: false; field: keyof ScheduleFields; message: string } {
  const topic = f.topic.trim();
  if ([...topic].length > MAX_TOPIC)
    return { ok: false, field: "topic", message: `Use at most ${MAX_TOPIC} characters.` };
  let startTime: number | null = null;
  if (f.start !== "") {
    const ms = new Date(f.start).getTime();
    if (Number.isNaN(ms)) return { ok: false, field: "start", message: "Pick a date and time." };
    startTime = Math.floor(ms / 1000);
  }
  let durationMinutes: number | null = null;
  if (f.duration.trim() !== "") {
    const d = Number(f.duration);
    if (!Number.isInteger(d) || d < 1 || d > 24 * 60)
      return { ok: false, field: "duration", message: "Enter 1 to 1440 minutes." };
    durationMinutes = d;
  }
  const passcode = f.clearPasscode ? "" : f.passcode === "" ? null : f.passcode;
  return {
    ok: true,
    settings: {
      topic: topic === "" ? null : topic,
      passcode,
      startTime,
      durationMinutes,
      waitingRoom: f.waitingRoom,
      joinBeforeHost: f.joinBeforeHost,
      e2e: f.e2e,
    },
  };
}

/** `datetime-local` text for a Unix time, in local time. */
export function localInputValue(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The form filled with a meeting's settings, for editing. */
export function fieldsFor(m: ScheduledMeeting): ScheduleFields {
  return {
    topic: m.topic ?? "",
    start: m.startTime === null ? "" : localInputValue(m.startTime),
    duration: m.durationMinutes === null ? "" : String(m.durationMinutes),
    passcode: "",
    clearPasscode: false,
    waitingRoom: m.waitingRoom,
    joinBeforeHost: m.joinBeforeHost,
    e2e: m.e2e,
  };
}

/** "Tue 24 Nov, 15:30 · 45 min", or "No set time". */
export function describeWhen(m: ScheduledMeeting, locale?: string): string {
  if (m.startTime === null) return "No set time";
  const when = new Date(m.startTime * 1000).toLocaleString(locale, {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
  return m.durationMinutes === null ? when : `${when} · ${m.durationMinutes} min`;
}
