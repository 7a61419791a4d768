/**
 * A generated lead file for the demo-request form, written the way spreadsheets export: a BOM,
 * CRLF line ends, quoted fields, header names that differ from the field names in case and
 * spacing, and an extra column no form knows. Some rows are bad on purpose, each in one known way,
 * so a test can predict exactly what an import of it reports.
 */
import { writeFileSync } from "node:fs";

export type RowFault = "size" | "consent" | "email" | "newline" | "duplicate" | "suppressed" | "columns";

export interface LeadCsv {
  /** Row number (header = 1) → what is wrong with it. */
  faults: Map<number, RowFault>;
  /** Distinct addresses that should end up as leads. */
  validEmails: Set<string>;
  suppressedEmail: string;
  rows: number;
}

const HEADER = ["Email", "First Name", "LAST_NAME", "company", "Title", "Company Size", "country", "Phone", "Consent", "Favourite Colour"];

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function faultOf(i: number): RowFault | undefined {
  if (i % 97 === 13) return "size";
  if (i % 89 === 5) return "consent";
  if (i % 83 === 7) return "email";
  if (i % 211 === 17) return "newline";
  if (i % 53 === 11 && i > 60) return "duplicate";
  if (i === 3) return "suppressed";
  if (i % 307 === 19) return "columns";
  return undefined;
}

/** A clean row among the first 50 whose address a "duplicate" row repeats (in other case). */
function originalOf(i: number): number {
  let j = i % 50;
  while (faultOf(j) !== undefined) j++;
  return j;
}

export function writeLeadCsv(path: string, rows: number, tag: string): LeadCsv {
  const faults = new Map<number, RowFault>();
  const validEmails = new Set<string>();
  const suppressedEmail = `suppressed.${tag}@engines.example`;
  const lines = [HEADER.join(",")];
  for (let i = 0; i < rows; i++) {
    const row = i + 2;
    let email = `lead${i}.${tag}@engines.example`;
    // Analysts at small companies score below the threshold: the import exercises capture and
    // enrollment, not a sales hand-off (with its notification emails) per row.
    let size = String(10 + (i % 80));
    let consent = i % 2 === 0 ? "yes" : "TRUE";
    let company = i % 7 === 0 ? `Engines, "Analytical" ${i} Ltd` : `Company ${i}`;
    const fault = faultOf(i);
    if (fault === "size") size = "lots";
    if (fault === "consent") consent = "no";
    if (fault === "email") email = `lead${i}.${tag}-at-engines.example`;
    if (fault === "newline") company = `Company ${i}\nsecond line`;
    if (fault === "duplicate") email = `LEAD${originalOf(i)}.${tag}@Engines.example`;
    if (fault === "suppressed") email = suppressedEmail;
    if (fault) faults.set(row, fault);
    const values = [email, "Ada", "Lovelace", company, "Analyst", size, "GB", "+44 20 7946 0000", consent, "teal"];
    if (fault === "columns") values.push("surplus", "values");
    if (!fault) validEmails.add(email.toLowerCase());
    lines.push(values.map(field).join(","));
  }
  writeFileSync(path, `\uFEFF${lines.join("\r\n")}\r\n`);
  return { faults, validEmails, suppressedEmail, rows };
}
