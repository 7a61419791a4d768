/**
 * The client side of `npm run import`: reads a CSV file with a real parser, posts it in batches
 * to a running leadloop's admin import route, shows progress, and reports every row that was not
 * imported (row, column, why) on stderr and in `<file>.errors.csv`.
 *
 * It goes through the HTTP API rather than opening the store itself: the running stack is the
 * only process that may open its DynamoDB Local data (two DynamoDB Local processes on one data
 * file corrupt it), its bus enrolls imported leads in nurture exactly as it does form captures,
 * and the same command imports into a deployed stage given its URL and an admin token.
 */
import { findRunningStack } from "./stack-file";
import { createReadStream, existsSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { signHs256Token } from "@leadloop/api";
import { describeTotals, type ImportRow, type ImportRowResult, importTotals, type ImportTotals } from "@leadloop/core";
import { parse } from "csv-parse";
import { localAuthSecret } from "./local-secrets";

export const IMPORT_USAGE = `Usage: npm run import -- <file.csv> --form <formId> [--key-column <column>] [--dry-run] [--url <url>] [--data-dir <dir>] [--token <token>]

Imports leads from a CSV file through the same validation, consent rule and dedupe as the form
<formId>: a new address creates a lead, a known one is merged into its lead, and a suppressed
address (unsubscribed, bounced, erased) is skipped, never re-subscribed. Importing the same rows
again changes nothing ("unchanged": no activity, no points); a row whose content changed since is
merged as news.

  <file.csv>        UTF-8, comma-separated, with a header row (a BOM, quoted fields and CRLF line
                    ends are fine). Columns are matched to the form's fields ignoring case, spaces,
                    "_" and "-" ("First Name" fills firstName); a "consent" column records each
                    person's consent (yes/true/1 or no/false/0) and is required where the form
                    requires consent; utm_* columns set the lead's source (utm_source defaults to
                    "import"). Unknown columns are reported once and ignored.
  --form <formId>   the form in config/forms.yaml whose fields and rules apply
  --key-column <c>  a column that identifies each row (e.g. a CRM id): a row whose key was
                    imported before is unchanged even if its other values differ. Without it, a
                    row is identified by its content. Matched like the other columns.
  --dry-run         check every row and say what would happen, without storing anything (a
                    row imported before is predicted as merged, not unchanged)
  --url <url>       the running leadloop to import into (default http://127.0.0.1:3000, i.e.
                    the local stack of \`npm start\`, which must be running)
  --data-dir <dir>  the local stack's data folder (default .leadloop); its auth-secret signs the
                    admin token the import uses, so locally no token is needed
  --token <token>   an admin bearer token (or LEADLOOP_TOKEN); needed for a deployed stage

Why through the running stack: DynamoDB Local must not be opened by two processes at once, and
the stack's event bus is what enrolls imported leads in their nurture sequences.

Rows are numbered as a spreadsheet numbers them (the header is row 1). Rows that were not
imported are listed at the end and written to <file.csv>.errors.csv. Exit status: 0 when every row
was imported or skipped, 1 when some rows had errors, 2 when the import could not run.`;

/** Rows per request: small enough for API Gateway's limits, large enough to keep requests few. */
const BATCH_ROWS = 100;
/** Requests in flight; the server works 8 rows of each at once. */
const BATCHES_IN_FLIGHT = 2;
const LISTED_ON_SCREEN = 50;

export class ImportUsageError extends Error {
  override readonly name = "ImportUsageError";
}

/** The import could not run at all (no stack at the URL, refused token, unknown form). */
export class ImportFailedError extends Error {
  override readonly name = "ImportFailedError";
}

export interface ImportIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

export interface ImportReport {
  totals: ImportTotals;
  results: ImportRowResult[];
  errorsFile?: string;
  rowsPerSecond: number;
}

interface ImportResponse {
  unknownColumns: string[];
  duplicateColumns: string[];
  missingColumns: string[];
  results: ImportRowResult[];
}

function options(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        form: { type: "string" },
        "key-column": { type: "string" },
        "dry-run": { type: "boolean" },
        url: { type: "string" },
        "data-dir": { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new ImportUsageError(error instanceof Error ? error.message : String(error));
  }
}

function isLocal(url: URL): boolean {
  return ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

/** Quotes a CSV field when it must be (RFC 4180). */
function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function problemLines(results: readonly ImportRowResult[]): { row: number; outcome: string; column: string; message: string }[] {
  const lines: { row: number; outcome: string; column: string; message: string }[] = [];
  for (const r of results) {
    if (r.outcome === "error") for (const p of r.problems) lines.push({ row: r.row, outcome: "error", column: p.column, message: p.message });
    else if (r.outcome === "skipped") lines.push({ row: r.row, outcome: "skipped", column: "", message: r.reason });
  }
  return lines.sort((a, b) => a.row - b.row);
}

function describeLine(line: { row: number; outcome: string; column: string; message: string }): string {
  const where = line.column ? `row ${line.row}, column ${line.column}` : `row ${line.row}`;
  return `${where}: ${line.outcome === "skipped" ? "skipped, " : ""}${line.message}`;
}

class Progress {
  #last = 0;
  #shownPercent = -1;
  constructor(
    private readonly out: ImportIo["stderr"],
    private readonly started: number,
  ) {}

  update(fraction: number, rows: number, done = false): void {
    const percent = Math.min(100, Math.floor(fraction * 100));
    const now = Date.now();
    const rate = Math.round(rows / Math.max(0.001, (now - this.started) / 1000));
    if (this.out.isTTY) {
      if (!done && now - this.#last < 100) return;
      this.#last = now;
      const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 40));
      const filled = Math.round((width * percent) / 100);
      this.out.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(percent).padStart(3)}%  ${rows} rows  ${rate} rows/s`);
      if (done) this.out.write("\n");
      return;
    }
    // Not a terminal (a log, CI): a line per 10 %, no carriage returns.
    const step = Math.floor(percent / 10) * 10;
    if (step > this.#shownPercent || done) {
      this.#shownPercent = step;
      this.out.write(`${step}% (${rows} rows, ${rate} rows/s)\n`);
    }
  }
}

export async function runImport(argv: string[], io: ImportIo): Promise<ImportReport | undefined> {
  const { values, positionals } = options(argv);
  if (values.help) {
    io.stderr.write(`${IMPORT_USAGE}\n`);
    return undefined;
  }
  const [file, ...extra] = positionals;
  if (!file) throw new ImportUsageError("Name the CSV file to import: npm run import -- leads.csv --form <formId>.");
  if (extra.length > 0) throw new ImportUsageError(`One file at a time; also got: ${extra.join(" ")}.`);
  const formId = values.form ?? (() => { throw new ImportUsageError("Say which form's fields and rules apply: --form <formId>."); })();
  if (!existsSync(file)) throw new ImportUsageError(`There is no file ${file}.`);
  const dryRun = values["dry-run"] === true;
  const keyColumn = values["key-column"];
  let base: URL;
  try {
    base = new URL(values.url ?? findRunningStack(io.env).url);
  } catch {
    throw new ImportUsageError(`--url ${values.url} is not a URL; write e.g. --url http://127.0.0.1:3000.`);
  }
  const doFetch = io.fetch ?? fetch;
  const token = await adminToken(values.token ?? io.env.LEADLOOP_TOKEN, base, values["data-dir"] ?? findRunningStack(io.env).dataDir, io.env);
  const endpoint = new URL(`/v1/forms/${encodeURIComponent(formId)}/imports`, base);

  const post = async (headers: string[], rows: ImportRow[]): Promise<ImportResponse> => {
    let response: Response;
    try {
      response = await doFetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ headers, rows, dryRun, ...(keyColumn !== undefined ? { keyColumn } : {}) }),
      });
    } catch (error) {
      const why = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
      throw new ImportFailedError(
        `No leadloop answers at ${base.origin} (${why}). ${isLocal(base) ? "Start the local stack with `npm start` in another terminal, or" : "Check"} --url.`,
      );
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { detail?: string };
      throw new ImportFailedError(`${base.origin} refused the import (${response.status}): ${body.detail ?? response.statusText}`);
    }
    return (await response.json()) as ImportResponse;
  };

  const size = Math.max(1, statSync(file).size);
  const started = Date.now();
  const progress = new Progress(io.stderr, started);
  const results: ImportRowResult[] = [];
  let headers: string[] | undefined;
  let warned = false;
  let bytes = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const send = (rows: ImportRow[]) => {
    const task = post(headers ?? [], rows).then(
      (answer) => {
        if (!warned) {
          warned = true;
          for (const c of answer.unknownColumns) io.stderr.write(`warning: column "${c}" is not a field of the form ${formId}; it is ignored.\n`);
          for (const c of answer.duplicateColumns) io.stderr.write(`warning: column "${c}" repeats a field an earlier column fills; it is ignored.\n`);
          for (const c of answer.missingColumns) io.stderr.write(`warning: the form ${formId} requires ${c}, but the file has no column for it: every row will fail on it.\n`);
        }
        results.push(...answer.results);
        progress.update(bytes / size, results.length);
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    const tracked = task.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const parser = createReadStream(file).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  let batch: ImportRow[] = [];
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { records: number; bytes: number } }>) {
    bytes = info.bytes;
    if (!headers) {
      headers = record.map((h) => h.trim());
      continue;
    }
    const row = info.records;
    if (record.length !== headers.length && !(record.length > headers.length && record.slice(headers.length).every((v) => v.trim() === ""))) {
      results.push({
        row,
        outcome: "error",
        problems: [{ column: "", message: `has ${record.length} values but the header has ${headers.length} columns (a missing or extra comma, or an unclosed quote)` }],
      });
      continue;
    }
    batch.push({ row, values: record.slice(0, headers.length) });
    if (batch.length >= BATCH_ROWS) {
      send(batch);
      batch = [];
      while (inFlight.size >= BATCHES_IN_FLIGHT) await Promise.race(inFlight);
      if (failure) break;
    }
  }
  if (!headers) throw new ImportUsageError(`${file} is empty: it needs a header row naming the columns, then one row per lead.`);
  if (batch.length > 0 && !failure) send(batch);
  await Promise.all(inFlight);
  if (failure) throw failure;
  progress.update(1, results.length, true);

  results.sort((a, b) => a.row - b.row);
  if (dryRun) predictAcrossBatches(results);
  const totals = importTotals(results);
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  const rowsPerSecond = Math.round(results.length / seconds);

  const lines = problemLines(results);
  const errorsFile = `${file}.errors.csv`;
  if (lines.length > 0) {
    io.stderr.write(`\n${lines.length} problem(s):\n`);
    for (const line of lines.slice(0, LISTED_ON_SCREEN)) io.stderr.write(`  ${describeLine(line)}\n`);
    if (lines.length > LISTED_ON_SCREEN) io.stderr.write(`  … and ${lines.length - LISTED_ON_SCREEN} more\n`);
    const csv = ["row,outcome,column,message", ...lines.map((l) => [l.row, l.outcome, l.column, l.message].map(csvField).join(","))];
    writeFileSync(errorsFile, `${csv.join("\r\n")}\r\n`);
    io.stderr.write(`Every problem is listed in ${errorsFile}\n`);
  } else if (existsSync(errorsFile)) {
    // A report left by an earlier run would describe rows that are fine now.
    unlinkSync(errorsFile);
  }
  io.stdout.write(`${dryRun ? "Dry run, nothing stored: would be " : ""}${describeTotals(totals)} (${results.length} rows in ${seconds.toFixed(1)} s, ${rowsPerSecond} rows/s)\n`);
  return { totals, results, rowsPerSecond, ...(lines.length > 0 ? { errorsFile } : {}) };
}

/** A dry run's batches predict independently; a second row of one address is a merge, wherever it is. */
function predictAcrossBatches(results: ImportRowResult[]): void {
  const seen = new Set<string>();
  for (const [i, r] of results.entries()) {
    if (r.outcome !== "created" && r.outcome !== "merged") continue;
    if (r.outcome === "created" && seen.has(r.leadId)) results[i] = { ...r, outcome: "merged" };
    seen.add(r.leadId);
  }
}

async function adminToken(given: string | undefined, base: URL, dataDir: string, env: Record<string, string | undefined>): Promise<string> {
  if (given) return given;
  if (!isLocal(base)) {
    throw new ImportUsageError(`Importing into ${base.origin} needs an admin token: --token <token> or LEADLOOP_TOKEN.`);
  }
  return signHs256Token({ email: "import@leadloop.local", roles: ["admin"], ttl: "1h", name: "npm run import" }, localAuthSecret(dataDir, env));
}
