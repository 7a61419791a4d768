/**
 * Turns a raw form submission into a clean profile, by the form's own field list in config.
 * Every problem names its field and says what to send instead; nothing unknown is stored.
 */
import * as z from "./zod-mini";
import type { Form, FormField } from "./config/schema";
import { type FieldIssue, ValidationError } from "./errors";
import type { Profile } from "./lead";

/** The field that carries consent in a submission (checkbox `consent`). */
export const CONSENT_FIELD = "consent";

export interface ValidSubmission {
  email: string;
  profile: Profile;
  consentGiven: boolean;
  /** A bot filled the hidden honeypot field: answer as usual, store nothing. */
  isBot: boolean;
}

// Control characters (CR and LF among them) never belong in a one-line value: they are how a
// value smuggles extra headers into an email.
function hasControl(s: string, multiline: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code === 0x7f) return true;
    if (code >= 0x20 || code === 0x09) continue;
    if (multiline && (code === 0x0a || code === 0x0d)) continue;
    return true;
  }
  return false;
}

const DEFAULT_MAX = { text: 200, textarea: 2000, hidden: 500 } as const;

function text(max: number, multiline = false) {
  return z.pipe(
    z.pipe(
      z.string({ error: "must be text" }),
      z.transform((s: string) => s.trim()),
    ),
    z.string().check(
      z.maxLength(max, `must be at most ${max} characters`),
      z.refine((s) => !hasControl(s, multiline), multiline ? "must be plain text" : "must be a single line of plain text"),
    ),
  );
}

const truthy = new Set(["on", "true", "1", "yes"]);
const falsy = new Set(["off", "false", "0", "no", ""]);

// Building a zod schema costs more than using it (it was a tenth of a capture's CPU): each config
// field's schema is built once, on first use, and kept while the loaded config is.
const schemas = new WeakMap<FormField, z.ZodMiniType<string | number | boolean>>();

function fieldSchema(field: FormField): z.ZodMiniType<string | number | boolean> {
  let schema = schemas.get(field);
  if (!schema) {
    schema = buildFieldSchema(field);
    schemas.set(field, schema);
  }
  return schema;
}

const CONSENT_CHECKBOX: FormField = { type: "checkbox", required: false };

function buildFieldSchema(field: FormField): z.ZodMiniType<string | number | boolean> {
  switch (field.type) {
    case "email":
      return z.pipe(text(254), z.email("must be an email address such as ada@example.com"));
    case "text":
      return text(field.maxLength ?? DEFAULT_MAX.text);
    case "textarea":
      return text(field.maxLength ?? DEFAULT_MAX.textarea, true);
    case "hidden":
      return text(field.maxLength ?? DEFAULT_MAX.hidden);
    case "number": {
      let n = z.number({ error: "must be a number such as 250" });
      if (field.min !== undefined) n = n.check(z.gte(field.min, `must be at least ${field.min}`));
      if (field.max !== undefined) n = n.check(z.lte(field.max, `must be at most ${field.max}`));
      return z.pipe(
        z.pipe(
          z.union([z.number(), text(32)], { error: "must be a number such as 250" }),
          z.transform((v: number | string) => (typeof v === "number" ? v : v === "" ? Number.NaN : Number(v.replace(/[,_ ]/g, "")))),
        ),
        n,
      );
    }
    case "tel":
      return z.pipe(text(40), z.string().check(z.regex(/^\+?[0-9 ().-]{5,30}$/, "must be a phone number such as +1 555 010 0100")));
    case "url":
      return z.pipe(text(2000), z.url({ protocol: /^https?$/, error: "must be a web address starting with https://" }));
    case "select": {
      const options = field.options ?? [];
      return text(200).check(z.refine((v) => options.includes(v), `must be one of: ${options.join(", ")}`));
    }
    case "checkbox":
      return z.pipe(
        z.union([z.boolean(), z.string()], { error: "must be true or false" }),
        z.transform((v: boolean | string, ctx) => {
          if (typeof v === "boolean") return v;
          const s = v.trim().toLowerCase();
          if (truthy.has(s)) return true;
          if (falsy.has(s)) return false;
          ctx.issues.push({ code: "custom", message: "must be true or false (a ticked checkbox sends on)", input: v });
          return z.NEVER;
        }),
      );
    case "country":
      return z.pipe(
        z.pipe(text(2), z.transform((v: string) => v.toUpperCase())),
        z.string().check(z.regex(/^[A-Z]{2}$/, "must be a two-letter country code such as US or DE")),
      );
    case "timezone":
      return text(64).check(
        z.refine((tz) => {
          try {
            new Intl.DateTimeFormat("en-US", { timeZone: tz });
            return true;
          } catch {
            return false;
          }
        }, "must be a time zone such as Europe/Berlin"),
      );
  }
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

/**
 * The submission a form accepts, as one zod object of the very field schemas `validateSubmission`
 * checks each value with (the OpenAPI document describes each form's body with it).
 */
export function submissionSchema(form: Form): z.ZodMiniObject {
  const shape: Record<string, z.ZodMiniType> = {};
  for (const [name, field] of Object.entries(form.fields)) {
    const schema = field.label ? fieldSchema(field).check(z.describe(field.label)) : fieldSchema(field);
    shape[name] = field.required ? schema : z.optional(schema);
  }
  if (form.consent) {
    const consent = fieldSchema(CONSENT_CHECKBOX);
    shape[CONSENT_FIELD] = (form.consent.required ? consent : z.optional(consent)).check(z.describe(form.consent.text));
  }
  return z.looseObject(shape);
}

/** Validates `raw` against `form`; throws ValidationError listing every field at fault. */
export function validateSubmission(form: Form, raw: Record<string, unknown>): ValidSubmission {
  if (form.honeypot && !isEmpty(raw[form.honeypot])) {
    return { email: "", profile: {}, consentGiven: false, isBot: true };
  }
  const issues: FieldIssue[] = [];
  const profile: Profile = {};
  for (const [name, field] of Object.entries(form.fields)) {
    const value = raw[name];
    if (isEmpty(value)) {
      if (field.required) issues.push({ field: name, message: `is required${field.label ? ` (${field.label})` : ""}` });
      continue;
    }
    const parsed = fieldSchema(field).safeParse(value);
    if (!parsed.success) {
      issues.push({ field: name, message: parsed.error.issues[0]?.message ?? "is not valid" });
      continue;
    }
    if (parsed.data !== "") profile[name] = parsed.data;
  }

  let consentGiven = false;
  if (form.consent) {
    const parsed = fieldSchema(CONSENT_CHECKBOX).safeParse(raw[CONSENT_FIELD] ?? false);
    if (!parsed.success) issues.push({ field: CONSENT_FIELD, message: "must be true or false" });
    else consentGiven = parsed.data === true;
    if (form.consent.required && !consentGiven && parsed.success) {
      issues.push({ field: CONSENT_FIELD, message: `must be given: "${form.consent.text}"` });
    }
  }

  if (issues.length > 0) throw new ValidationError(issues);
  const { email, ...rest } = profile;
  return { email: String(email), profile: rest, consentGiven, isBot: false };
}
