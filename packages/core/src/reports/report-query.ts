/**
 * What every report query shares: a period of calendar days (`from`..`to`, at most a year) and
 * text filters, checked the same way by the funnel, the cohorts and the deal reviews, each
 * complaint naming the parameter a person wrote wrong.
 */
import * as z from "../zod-mini";
import { ValidationError } from "../errors";

/** The longest period one report covers: a year of days × shards stays a quick read. */
export const MAX_REPORT_DAYS = 366;

export const IsoDay = z.string().check(
  z.regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date written YYYY-MM-DD"),
  z.refine((day) => {
    const date = new Date(`${day}T00:00:00Z`);
    return Number.isFinite(date.getTime()) && date.toISOString().startsWith(day);
  }, "is not a calendar date"),
);

/** A dimension's value as given (the funnel's rows keep their case). */
export const Filter = z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(200)));
/** A dimension's value lower-cased, as the cohort and review rows store it. */
export const LowerCaseFilter = z.optional(z.string().check(z.trim(), z.toLowerCase(), z.minLength(1), z.maxLength(200)));

/** Every UTC day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && days.length <= MAX_REPORT_DAYS + 1; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** A report query: the shape's fields plus the period's own rules (from before to, at most a year). */
export function reportQuery<Shape extends { from: typeof IsoDay; to: typeof IsoDay } & z.core.$ZodShape>(shape: Shape) {
  return z.object(shape).check(
    z.superRefine((q, ctx) => {
      const { from, to } = q as { from: string; to: string };
      if (from > to) ctx.addIssue({ code: "custom", path: ["from"], message: `must not be after to (${to})` });
      else if (daysBetween(from, to).length > MAX_REPORT_DAYS) {
        ctx.addIssue({ code: "custom", path: ["to"], message: `must be at most ${MAX_REPORT_DAYS} days after from` });
      }
    }),
  );
}

/** Parses a report query (e.g. from URL parameters); ValidationError names each bad parameter, once. */
export function parseReportQuery<S extends z.ZodMiniType>(schema: S, input: Record<string, unknown>): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // One complaint per parameter: the first says what to fix.
  const issues = new Map<string, string>();
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? "query");
    if (!issues.has(field)) issues.set(field, issue.message);
  }
  throw new ValidationError([...issues].map(([field, message]) => ({ field, message })));
}
