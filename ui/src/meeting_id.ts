/**
 * Meeting ids: the number people read out and type to join a meeting.
 *
 * On the wire a meeting id is a plain unsigned integer (`MeetingId(u64)` in
 * `confer-wire`) of 9 to 11 digits. People see it grouped, `482 193 7650`,
 * and may type or paste it with spaces or dashes, so input is normalised
 * here before it is validated, and formatted again for display.
 */

/** Fewest digits a meeting id has. */
export const MIN_MEETING_ID_DIGITS = 9;
/** Most digits a meeting id has. */
export const MAX_MEETING_ID_DIGITS = 11;

/** Why typed text is not a meeting id. */
export type MeetingIdProblem =
  | "empty"
  | "not-digits"
  | "leading-zero"
  | "too-short"
  | "too-long";

/** The outcome of {@link parseMeetingId}. */
export type MeetingIdResult =
  | { ok: true; digits: string }
  | { ok: false; problem: MeetingIdProblem };

/** Separators people use when they read ids out or paste them from invites. */
const SEPARATORS = /[\s\-.]/g;

/** Removes the separators people type between digit groups. */
export function stripSeparators(input: string): string {
  return input.replace(SEPARATORS, "");
}

/**
 * Checks typed or pasted text and returns the meeting id's digits.
 *
 * A leading zero is refused: the id is a number, so `0482193765` would
 * silently name meeting `482193765`.
 */
export function parseMeetingId(input: string): MeetingIdResult {
  const digits = stripSeparators(input);
  if (digits.length === 0) return { ok: false, problem: "empty" };
  if (!/^[0-9]+$/.test(digits)) return { ok: false, problem: "not-digits" };
  if (digits.startsWith("0")) return { ok: false, problem: "leading-zero" };
  if (digits.length < MIN_MEETING_ID_DIGITS) return { ok: false, problem: "too-short" };
  if (digits.length > MAX_MEETING_ID_DIGITS) return { ok: false, problem: "too-long" };
  return { ok: true, digits };
}

/**
 * Groups digits for display: `482 193 765`, `482 193 7650`, `482 1937 6501`.
 *
 * Works on partial input too (`48`, `482 19`), so a field can be formatted
 * while someone types; anything that is not a digit is dropped.
 */
export function formatMeetingId(input: string): string {
  const digits = input.replace(/[^0-9]/g, "").slice(0, MAX_MEETING_ID_DIGITS);
  // 11-digit ids read best as 3-4-4; shorter ones as 3-3-rest.
  const sizes = digits.length === MAX_MEETING_ID_DIGITS ? [3, 4, 4] : [3, 3, 4];
  const groups: string[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= digits.length) break;
    groups.push(digits.slice(at, at + size));
    at += size;
  }
  return groups.join(" ");
}

/**
 * Where the caret belongs in `formatted` so that it sits after the same
 * number of digits as before reformatting: typing in the middle of an id must
 * not throw the caret to the end.
 */
export function caretAfterDigits(formatted: string, digitsBefore: number): number {
  if (digitsBefore <= 0) return 0;
  let seen = 0;
  for (let i = 0; i < formatted.length; i++) {
    if (/[0-9]/.test(formatted.charAt(i))) {
      seen++;
      if (seen === digitsBefore) return i + 1;
    }
  }
  return formatted.length;
}

/** A sentence telling someone how to fix a meeting id. */
export function describeMeetingIdProblem(problem: MeetingIdProblem): string {
  switch (problem) {
    case "empty":
      return "Enter the meeting ID from your invitation.";
    case "not-digits":
      return "A meeting ID has digits only.";
    case "leading-zero":
      return "A meeting ID does not start with 0.";
    case "too-short":
    case "too-long":
      return `A meeting ID has ${MIN_MEETING_ID_DIGITS} to ${MAX_MEETING_ID_DIGITS} digits.`;
  }
}
