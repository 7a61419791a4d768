/**
 * importRows: every row of an imported file goes through exactly what a form submission goes
 * through (the form's validation and consent rule, dedupe on the address, `lead.captured`), and
 * importing the same rows again changes nothing: each row carries a stable key, and a lead that
 * already holds a submission with that key gets no second activity and so no second score. A
 * suppressed address is skipped, never re-subscribed.
 *
 * The key is the row's own (a column the file names, e.g. a CRM id) or else a hash of what the
 * row says, field by field. A hash of the file and the row number would change when a row is
 * added above, or the file re-saved with other line ends, and import every row a second time; a
 * hash of the content imports again only a row whose content changed, which is news.
 */
import { createHash } from "node:crypto";
import { type CaptureDeps, captureLead, type SubmissionMeta } from "../capture";
import type { Form } from "../config/schema";
import { UnknownFormError, ValidationError } from "../errors";
import { CONSENT_FIELD, validateSubmission } from "../form-validation";
import { normaliseEmail, UTM_KEYS } from "../lead";
import { StoreUnavailableError } from "../ports";
import { retried } from "../retried";

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
  /** unchanged: this row was imported before, so nothing was written. */
  | { row: number; outcome: "created" | "merged" | "unchanged"; leadId: string }
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
  /**
   * The header of a column that identifies each row (a CRM id, matched like field columns): a row
   * whose key was imported before is unchanged. Without one, a row's content is its key.
   */
  keyColumn?: string;
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

/**
 * The submission key of an imported row, scoped to the form. Hashed, so a key column holding an
 * address (or the row's content) never lands in a table key in clear.
 */
export function importRowKey(formId: string, raw: Record<string, string>, ownKey?: string): string {
  const identity =
    ownKey !== undefined
      ? ["key", ownKey.trim()]
      : [
          "content",
          ...Object.entries(raw)
            .map(([field, value]) => [field, field === "email" ? normaliseEmail(value) : value.trim()] as const)
            .filter(([, value]) => value !== "")
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        ];
  return `import:${createHash("sha256").update(JSON.stringify([formId, identity])).digest("hex")}`;
}

export async function importRows(deps: CaptureDeps, options: ImportOptions): Promise<ImportBatchResult> {
  const form = Object.hasOwn(deps.config.forms, options.formId) ? deps.config.forms[options.formId] : undefined;
  if (!form) throw new UnknownFormError(options.formId);
  const mapping = mapColumns(form, options.headers);
  const keyIndex = options.keyColumn === undefined ? -1 : options.headers.findIndex((h) => comparable(h.trim()) === comparable(options.keyColumn ?? ""));
  if (options.keyColumn !== undefined) {
    if (keyIndex < 0) {
      throw new ValidationError([{ field: "keyColumn", message: `names no column of the file (its columns: ${options.headers.join(", ")})` }]);
    }
    // The key column is the row's identity, not an unknown field to warn about.
    mapping.unknown = mapping.unknown.filter((h) => comparable(h.trim()) !== comparable(options.keyColumn ?? ""));
  }
  const columnOf = new Map<string, string>();
  mapping.fieldOf.forEach((field, i) => {
    if (field !== undefined) columnOf.set(field, options.headers[i] ?? field);
  });
  // An admin's file is the lead's word: it may correct what a lead told us (see lead-merge.ts).
  const meta: SubmissionMeta = { ip: "import", userAgent: "leadloop import", utm: { utm_source: IMPORT_UTM_SOURCE }, trusted: true };
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
    let ownKey: string | undefined;
    if (keyIndex >= 0) {
      ownKey = row.values[keyIndex]?.trim() ?? "";
      if (ownKey === "") return { row: row.row, outcome: "error", problems: [{ column: options.headers[keyIndex] ?? "", message: "is empty, but it is the key column that identifies each row" }] };
    }
    const leadId = deps.leads.leadIdFor(email);
    const suppression = await deps.leads.getSuppression(email);
    if (suppression) return { row: row.row, outcome: "skipped", leadId, reason: `the address is suppressed (${suppression.reason})` };

    if (options.dryRun) {
      const known = predictedNew.has(leadId) || (await deps.leads.getLead(leadId)) !== undefined;
      predictedNew.add(leadId);
      return { row: row.row, outcome: known ? "merged" : "created", leadId };
    }
    const rowMeta: SubmissionMeta = { ...meta, key: importRowKey(options.formId, raw, ownKey) };
    try {
      const outcome = await retried(() => captureLead(deps, options.formId, raw, rowMeta), {
        tries: STORE_ATTEMPTS,
        retryOn: (error) => error instanceof StoreUnavailableError,
      });
      // Unreachable (the honeypot is never mapped), but a bot answer must not read as stored.
      if (outcome.kind === "bot") return { row: row.row, outcome: "skipped", leadId, reason: "treated as a bot" };
      const kind = outcome.created ? "created" : outcome.repeated ? "unchanged" : "merged";
      return { row: row.row, outcome: kind, leadId: outcome.lead.id };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { row: row.row, outcome: "error", problems: [{ column: "", message: `not stored: ${message}` }] };
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
  /** Rows imported before: nothing written. */
  unchanged: number;
  skipped: number;
  errors: number;
}

export function importTotals(results: Iterable<ImportRowResult>): ImportTotals {
  const totals: ImportTotals = { created: 0, merged: 0, unchanged: 0, skipped: 0, errors: 0 };
  for (const r of results) {
    if (r.outcome === "error") totals.errors++;
    else totals[r.outcome]++;
  }
  return totals;
}

/** "N created, M merged, U unchanged, K skipped, E errors" */
export function describeTotals(t: ImportTotals): string {
  return `${t.created} created, ${t.merged} merged, ${t.unchanged} unchanged, ${t.skipped} skipped, ${t.errors} ${t.errors === 1 ? "error" : "errors"}`;
}
