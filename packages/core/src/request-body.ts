/**
 * A JSON request body checked by its zod schema, told back as the fields the caller sent: what
 * the HTTP layer answers as a 422 whose `errors` name each field.
 */
import type * as z from "zod";
import type { FieldIssue } from "./errors";

/**
 * The body's fields, without those left empty: a form sends "" (and some clients null) for a
 * field it does not use, which means not given. Anything but an object has no fields.
 */
export function givenFields(input: unknown): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return {};
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== "" && value !== null));
}

/** zod's issues by top-level field (the one a caller can fix), each field and message once. */
export function fieldIssues(error: z.core.$ZodError): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : "body";
    if (!issues.some((i) => i.field === field && i.message === issue.message)) issues.push({ field, message: issue.message });
  }
  return issues;
}
