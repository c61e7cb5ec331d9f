/**
 * Validation of the start screen's two forms, kept free of the DOM so it can
 * be tested on its own. Each function returns one message per field that
 * needs fixing; an empty object means the form may be sent.
 */

import { describeMeetingIdProblem, parseMeetingId } from "./meeting_id";

/** Longest display name accepted; the roster has to fit it on one line. */
export const MAX_DISPLAY_NAME_LENGTH = 64;

/** Field name → message for the fields that need fixing. */
export type FieldErrors<Field extends string> = Partial<Record<Field, string>>;

/** What the "Sign in" form holds. */
export interface SignInFields {
  email: string;
  password: string;
}

/** What the "Join a meeting" form holds. */
export interface JoinFields {
  meetingId: string;
  name: string;
}

/**
 * A deliberately loose address check (something@something.something): the
 * server is the judge of what accounts exist, this only catches typos early.
 */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Checks the "Sign in" form. */
export function validateSignIn(fields: SignInFields): FieldErrors<keyof SignInFields> {
  const errors: FieldErrors<keyof SignInFields> = {};
  const email = fields.email.trim();
  if (email === "") errors.email = "Enter your email address.";
  else if (!EMAIL_SHAPE.test(email)) errors.email = "Enter an address like name@example.com.";
  // Passwords are compared as typed: no trimming.
  if (fields.password === "") errors.password = "Enter your password.";
  return errors;
}

/** Checks the "Join a meeting" form. */
export function validateJoin(fields: JoinFields): FieldErrors<keyof JoinFields> {
  const errors: FieldErrors<keyof JoinFields> = {};
  const id = parseMeetingId(fields.meetingId);
  if (!id.ok) errors.meetingId = describeMeetingIdProblem(id.problem);
  const name = fields.name.trim();
  if (name === "") errors.name = "Enter the name others will see.";
  else if ([...name].length > MAX_DISPLAY_NAME_LENGTH)
    errors.name = `Use at most ${MAX_DISPLAY_NAME_LENGTH} characters.`;
  return errors;
}

/** Whether a form's errors allow sending it. */
export function isValid(errors: FieldErrors<string>): boolean {
  return Object.keys(errors).length === 0;
}
