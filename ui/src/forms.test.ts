import { describe, expect, it } from "vitest";
import { MAX_DISPLAY_NAME_LENGTH, isValid, validateJoin, validateSignIn } from "./forms";

describe("validateSignIn", () => {
  it("accepts an address and a password", () => {
    expect(validateSignIn({ email: " ada@example.com ", password: " secret " })).toEqual({});
  });

  it("asks for each missing or malformed field", () => {
    const errors = validateSignIn({ email: "ada@", password: "" });
    expect(Object.keys(errors).sort()).toEqual(["email", "password"]);
    expect(isValid(errors)).toBe(false);
    expect(validateSignIn({ email: "", password: "x" }).email).toMatch(/email/i);
  });
});

describe("validateJoin", () => {
  it("accepts a grouped meeting id and a name", () => {
    expect(isValid(validateJoin({ meetingId: "482 193 7650", name: "Ada" }))).toBe(true);
  });

  it("explains a bad meeting id and a missing or overlong name", () => {
    expect(validateJoin({ meetingId: "1234", name: "  " })).toEqual({
      meetingId: "A meeting ID has 9 to 11 digits.",
      name: "Enter the name others will see.",
    });
    const long = "é".repeat(MAX_DISPLAY_NAME_LENGTH + 1);
    expect(validateJoin({ meetingId: "482193765", name: long }).name).toMatch(/at most/);
    // Counted in characters, not UTF-16 units.
    const emoji = "🙂".repeat(MAX_DISPLAY_NAME_LENGTH);
    expect(validateJoin({ meetingId: "482193765", name: emoji })).toEqual({});
  });
});
