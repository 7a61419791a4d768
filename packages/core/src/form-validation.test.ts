import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Form } from "./config/schema";
import { ValidationError } from "./errors";
import { validateSubmission } from "./form-validation";

const form: Form = {
  name: "Demo",
  fields: {
    email: { type: "email", required: true },
    firstName: { type: "text", required: true, maxLength: 20 },
    companySize: { type: "number", required: false, min: 1 },
    country: { type: "country", required: false },
    plan: { type: "select", required: false, options: ["starter", "pro"] },
    timezone: { type: "timezone", required: false },
  },
  consent: { text: "I agree to be contacted.", required: true },
  honeypot: "website",
  allowedOrigins: [],
  thankYouUrl: "https://example.com/thanks",
  doubleOptIn: false,
};

function issues(raw: Record<string, unknown>) {
  try {
    validateSubmission(form, raw);
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.issues.map((i) => i.field);
  }
}

describe("validateSubmission", () => {
  it("cleans a good submission into a profile", () => {
    const out = validateSubmission(form, {
      email: " ada@example.com ",
      firstName: "Ada",
      companySize: "1,200",
      country: "gb",
      plan: "pro",
      consent: "on",
      extra: "ignored",
    });
    expect(out).toEqual({
      email: "ada@example.com",
      profile: { firstName: "Ada", companySize: 1200, country: "GB", plan: "pro" },
      consentGiven: true,
      isBot: false,
    });
  });

  it("names every field at fault", () => {
    expect(
      issues({ email: "nope", firstName: "x".repeat(21), companySize: "many", country: "GBR", plan: "gold", timezone: "Mars/Base" }),
    ).toEqual(["email", "firstName", "companySize", "country", "plan", "timezone", "consent"]);
    expect(issues({})).toEqual(["email", "firstName", "consent"]);
  });

  it("refuses line breaks in one-line fields (they could reach email headers)", () => {
    expect(issues({ email: "a@b.example", firstName: "Ada\r\nBcc: x@y.example", consent: true })).toEqual(["firstName"]);
  });

  it("flags a bot that filled the honeypot without looking further", () => {
    expect(validateSubmission(form, { website: "http://spam" }).isBot).toBe(true);
  });

  it("never throws anything but ValidationError, whatever arrives", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("email", "firstName", "companySize", "country", "plan", "timezone", "consent"), fc.anything()), (raw) => {
        try {
          validateSubmission(form, raw);
        } catch (e) {
          expect(e).toBeInstanceOf(ValidationError);
        }
      }),
    );
  });
});
