/**
 * importRows: every row of an imported file goes through exactly what a form submission goes
 * through (the form's validation and consent rule, dedupe on the address, `lead.captured`), so
 * running the same import twice merges into the leads the first run made instead of duplicating
 * them, and a suppressed address is skipped, never re-subscribed.
 */
import { type CaptureDeps, captureLead, type SubmissionMeta } from "../capture";
import type { Form } from "../config/schema";
import { UnknownFormError, ValidationError } from "../errors";
import { CONSENT_FIELD, validateSubmission } from "../form-validation";
import { normaliseEmail, UTM_KEYS } from "../lead";
import { StoreUnavailableError } from "../ports";

/** What an imported lead's source says when the file has no utm_source column of its own. */
export const IMPORT_UTM_SOURCE = "import";

/** Rows one call takes at most: a request stays well inside API Gateway's size and time limits. */
export const MAX_IMPORT_BATCH = 500;

export interface ImportRow {
  /** As a spreadsheet numbers it: the header is row 1, the first lead row 2. */
  row: number;
  /** One value per header, in header order. */
  values: string[];
}

export interface RowProblem {
  /** The column as the file names it (the field name when the file has no column for it). */
  column: string;
  message: string;
}

export type ImportRowResult =
  | { row: number; outcome: "created" | "merged"; leadId: string }
  | { row: number; outcome: "skipped"; leadId: string; reason: string }
  | { row: number; outcome: "error"; problems: RowProblem[] };

export interface ColumnMapping {
  /** Field (form field, `consent` or a UTM key) each header feeds, by header index; undefined for unknown columns. */
  fieldOf: (string | undefined)[];
  /** Headers no field answers to, as the file writes them. */
  unknown: string[];
  /** Headers that name a field an earlier column already feeds; their values are ignored. */
  duplicate: string[];
  /** Required fields (and required consent) the file has no column for: every row will fail on them. */
  missing: string[];
}

/** Column names match fields ignoring case, spaces, `_` and `-`: "First Name" feeds `firstName`. */
function comparable(name: string): string {
  return name.normalize("NFC").toLowerCase().replace(/[\s_-]+/g, "");
}

/** Maps a file's header row onto a form's fields. */
export function mapColumns(form: Form, headers: readonly string[]): ColumnMapping {
  const known = new Map<string, string>();
  for (const name of Object.keys(form.fields)) known.set(comparable(name), name);
  if (form.consent) known.set(comparable(CONSENT_FIELD), CONSENT_FIELD);
  for (const key of UTM_KEYS) known.set(comparable(key), key);
  // The honeypot is never mapped: an imported row is not a bot however its columns read.
  if (form.honeypot) known.delete(comparable(form.honeypot));

  const taken = new Set<string>();
  const mapping: ColumnMapping = { fieldOf: [], unknown: [], duplicate: [], missing: [] };
  for (const header of headers) {
    const field = known.get(comparable(header.trim()));
    if (field === undefined) {
      mapping.fieldOf.push(undefined);
      if (header.trim() !== "") mapping.unknown.push(header);
    } else if (taken.has(field)) {
      mapping.fieldOf.push(undefined);
      mapping.duplicate.push(header);
    } else {
      mapping.fieldOf.push(field);
      taken.add(field);
    }
  }
  for (const [name, field] of Object.entries(form.fields)) {
    if (field.required && !taken.has(name)) mapping.missing.push(name);
  }
  if (form.consent?.required && !taken.has(CONSENT_FIELD)) mapping.missing.push(CONSENT_FIELD);
  return mapping;
}

export interface ImportOptions {
  formId: string;
  headers: readonly string[];
  rows: readonly ImportRow[];
  /** Validate, check suppression and predict created/merged without writing anything. */
  dryRun?: boolean;
  /** Rows in flight at once. */
  concurrency?: number;
  /** Called as each row settles, for progress. */
  onRow?: (result: ImportRowResult) => void;
}

export interface ImportBatchResult {
  mapping: ColumnMapping;
  /** In row order. */
  results: ImportRowResult[];
}

const STORE_ATTEMPTS = 3;

export async function importRows(deps: CaptureDeps, options: ImportOptions): Promise<ImportBatchResult> {
  const form = Object.hasOwn(deps.config.forms, options.formId) ? deps.config.forms[options.formId] : undefined;
  if (!form) throw new UnknownFormError(options.formId);
  const mapping = mapColumns(form, options.headers);
  const columnOf = new Map<string, string>();
  mapping.fieldOf.forEach((field, i) => {
    if (field !== undefined) columnOf.set(field, options.headers[i] ?? field);
  });
  const meta: SubmissionMeta = { ip: "import", userAgent: "leadloop import", utm: { utm_source: IMPORT_UTM_SOURCE } };
  // A dry run predicts "merged" for the second row of an address within the same call.
  const predictedNew = new Set<string>();

  const importOne = async (row: ImportRow): Promise<ImportRowResult> => {
    const raw: Record<string, string> = {};
    mapping.fieldOf.forEach((field, i) => {
      if (field !== undefined) raw[field] = row.values[i] ?? "";
    });
    let email: string;
    try {
      email = normaliseEmail(validateSubmission(form, raw).email);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return {
        row: row.row,
        outcome: "error",
        problems: error.issues.map((issue) => ({ column: columnOf.get(issue.field) ?? issue.field, message: issue.message })),
      };
    }
    const leadId = deps.leads.leadIdFor(email);
    const suppression = await deps.leads.getSuppression(email);
    if (suppression) return { row: row.row, outcome: "skipped", leadId, reason: `the address is suppressed (${suppression.reason})` };

    if (options.dryRun) {
      const known = predictedNew.has(leadId) || (await deps.leads.getLead(leadId)) !== undefined;
      predictedNew.add(leadId);
      return { row: row.row, outcome: known ? "merged" : "created", leadId };
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await captureLead(deps, options.formId, raw, meta);
        // Unreachable (the honeypot is never mapped), but a bot answer must not read as stored.
        if (outcome.kind === "bot") return { row: row.row, outcome: "skipped", leadId, reason: "treated as a bot" };
        return { row: row.row, outcome: outcome.created ? "created" : "merged", leadId: outcome.lead.id };
      } catch (error) {
        if (error instanceof StoreUnavailableError && attempt < STORE_ATTEMPTS) continue;
        const message = error instanceof Error ? error.message : String(error);
        return { row: row.row, outcome: "error", problems: [{ column: "", message: `not stored: ${message}` }] };
      }
    }
  };

  const results: ImportRowResult[] = new Array(options.rows.length);
  let next = 0;
  const worker = async () => {
    while (next < options.rows.length) {
      const index = next++;
      const row = options.rows[index];
      if (!row) continue;
      const result = await importOne(row);
      results[index] = result;
      options.onRow?.(result);
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 8, options.rows.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { mapping, results };
}

export interface ImportTotals {
  created: number;
  merged: number;
  skipped: number;
  errors: number;
}

export function importTotals(results: Iterable<ImportRowResult>): ImportTotals {
  const totals: ImportTotals = { created: 0, merged: 0, skipped: 0, errors: 0 };
  for (const r of results) {
    if (r.outcome === "error") totals.errors++;
    else totals[r.outcome]++;
  }
  return totals;
}

/** "N created, M merged, K skipped, E errors" */
export function describeTotals(t: ImportTotals): string {
  return `${t.created} created, ${t.merged} merged, ${t.skipped} skipped, ${t.errors} ${t.errors === 1 ? "error" : "errors"}`;
}
