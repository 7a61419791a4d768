/**
 * Data operations on the local stack: `npm run import` (its client, posting to the running stack)
 * over a generated file with bad rows, twice; GDPR erase and export; and who may call them.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import { runImport } from "@leadloop/local/import-client";
import { createDocumentClient, erasedSuppressionHash, erasedSuppressionHashKey } from "@leadloop/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeLeadCsv } from "./lead-csv";
import { post, startTestStack } from "./local-stack";

const LEAD_ID_KEY = "data-ops-e2e-lead-id-key-0123456789";

let stack: LocalStack;
let dir: string;
let adminToken: string;

beforeAll(async () => {
  process.env.LEADLOOP_LEAD_ID_KEY = LEAD_ID_KEY;
  stack = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), "leadloop-import-"));
  adminToken = await signHs256Token({ email: "admin@acme.example", roles: ["admin"] }, stack.authSecret);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

function sink() {
  const parts: string[] = [];
  return {
    write: (s: string) => parts.push(s) > 0,
    get text() {
      return parts.join("");
    },
  };
}

async function importFile(file: string, ...flags: string[]) {
  const stdout = sink();
  const stderr = sink();
  const report = await runImport([file, "--form", "demo-request", "--url", stack.url, "--token", adminToken, ...flags], {
    stdout,
    stderr,
    env: {},
  });
  await stack.bus.drain();
  return { report: report!, stdout: stdout.text, stderr: stderr.text };
}

function table() {
  return createDocumentClient({ endpoint: stack.dynamoEndpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
}

/** Every item of the test's own table (a scan is fine here: the table holds this file's data only). */
async function allItems(): Promise<Record<string, unknown>[]> {
  const client = table();
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: stack.tableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

// Erase runs first: the import leaves ~950 leads in nurture, and each clock advance would sweep them.
describe("GDPR erase and export", () => {
  const admin = () => ({ authorization: `Bearer ${adminToken}` });

  /** A whitepaper download by an analyst: it stays in nurture (a demo request from a VP goes straight to sales). */
  async function capture(address: string): Promise<string> {
    const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email: address, firstName: "Grace", company: "Engines", title: "Analyst", consent: true });
    expect(res.status).toBe(202);
    await stack.bus.drain();
    return ((await res.json()) as { leadId: string }).leadId;
  }

  /** Every email the SES emulator holds for the address (it keeps them after the erase; the store does not). */
  async function emailsTo(address: string): Promise<{ sequenceId?: string }[]> {
    return (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`)).json()) as { sequenceId?: string }[];
  }

  /** Moves the clock up to five days, until more than `before` emails reached the address. */
  async function advanceUntilEmail(address: string, before = 0): Promise<number> {
    for (let i = 0; i < 20; i++) {
      expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT6H" })).status).toBe(200);
      const sent = (await emailsTo(address)).length;
      if (sent > before) return sent;
    }
    return (await emailsTo(address)).length;
  }

  it("exports everything held, then erases it all but a hashed suppression; the address is never mailed again", async () => {
    const address = "grace.erase@engines.example";
    const leadId = await capture(address);
    await capture(address);
    expect(await advanceUntilEmail(address)).toBe(1);
    expect((await emailsTo(address))[0]?.sequenceId).toBeDefined();

    const exported = await fetch(`${stack.url}/v1/leads/${leadId}/export`, { headers: admin() });
    expect(exported.status).toBe(200);
    const data = (await exported.json()) as { lead: { email: string }; activities: { type: string }[]; consents: unknown[]; enrollments: unknown[]; messages: unknown[] };
    expect(data.lead.email).toBe(address);
    expect(data.activities.filter((a) => a.type === "form.submitted")).toHaveLength(2);
    expect(data.consents).toHaveLength(2);
    expect(data.enrollments).toHaveLength(1);
    expect(data.messages).toHaveLength(1);

    const erased = await fetch(`${stack.url}/v1/leads/${leadId}`, { method: "DELETE", headers: admin() });
    expect(erased.status).toBe(204);

    // Nothing left that names the lead or the address: only the suppression, under a keyed hash.
    const left = (await allItems()).filter((item) => JSON.stringify(item).includes(leadId) || JSON.stringify(item).toLowerCase().includes(address));
    expect(left).toEqual([]);
    const hash = erasedSuppressionHash(erasedSuppressionHashKey(LEAD_ID_KEY), address);
    const kept = await table().send(new QueryCommand({ TableName: stack.tableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `SUPPRESSED#${hash}` } }));
    expect(kept.Items).toEqual([expect.objectContaining({ reason: "erased" })]);
    expect(Object.keys(kept.Items?.[0] ?? {}).sort()).toEqual(["at", "entity", "pk", "reason", "sk"]);
    expect(await stack.store.getSuppression(` ${address.toUpperCase()}`)).toMatchObject({ reason: "erased" });

    const afterExport = await fetch(`${stack.url}/v1/leads/${leadId}/export`, { headers: admin() });
    expect(afterExport.status).toBe(404);
    expect(afterExport.headers.get("content-type")).toBe("application/problem+json");
    expect((await fetch(`${stack.url}/v1/leads/${leadId}`, { method: "DELETE", headers: admin() })).status).toBe(404);

    // The person comes back through a form: a new lead, but no nurture email ever goes out.
    const again = await capture(address);
    const lead = await stack.store.getLead(again);
    expect(lead?.email).toBe(address);
    expect(lead?.forms).toEqual(["whitepaper"]);
    expect((await stack.store.listActivities(again)).filter((a) => a.type === "form.submitted")).toHaveLength(1);
    expect(await advanceUntilEmail(address, 1)).toBe(1); // still only the email sent before the erase
    expect(await stack.nurture.listEnrollments(again)).toEqual([]);
  }, 120_000);

  it("answers 404 as problem+json for an unknown lead", async () => {
    const res = await fetch(`${stack.url}/v1/leads/00000000-0000-8000-8000-000000000000/export`, { headers: admin() });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toContain("never captured, or it has been erased");
  });

  it("refuses a missing token (401), a forged one (401) and one without the admin role (403)", async () => {
    const leadId = await capture("ada.auth@engines.example");
    const forged = await signHs256Token({ email: "admin@acme.example", roles: ["admin"] }, "a-secret-this-stack-never-heard-of-0123456789");
    const marketing = await signHs256Token({ email: "mia@acme.example", roles: ["marketing", "rep"] }, stack.authSecret);
    const calls: [string, string][] = [
      ["DELETE", `/v1/leads/${leadId}`],
      ["GET", `/v1/leads/${leadId}/export`],
      ["POST", "/v1/forms/demo-request/imports"],
    ];
    for (const [method, path] of calls) {
      const send = (headers: Record<string, string>) =>
        fetch(`${stack.url}${path}`, { method, headers: { "content-type": "application/json", ...headers }, ...(method === "POST" ? { body: JSON.stringify({ headers: ["email"], rows: [] }) } : {}) });
      expect((await send({})).status, `${method} ${path} without a token`).toBe(401);
      expect((await send({ authorization: `Bearer ${forged}` })).status, `${method} ${path} forged`).toBe(401);
      const wrongRole = await send({ authorization: `Bearer ${marketing}` });
      expect(wrongRole.status, `${method} ${path} marketing`).toBe(403);
      expect(wrongRole.headers.get("content-type")).toBe("application/problem+json");
    }
    expect(await stack.store.getLead(leadId)).toBeDefined();
  }, 60_000);
});

describe("npm run import", () => {
  it("imports 300 rows with bad ones, lists each problem, and creates nothing on a second run (bench:import runs 10,000)", async () => {
    const file = join(dir, "leads.csv");
    const csv = writeLeadCsv(file, 300, "imp");
    await stack.store.suppress({ email: csv.suppressedEmail, reason: "unsubscribed", at: stack.clock.now().toISOString() });

    const rowsOf = (fault: string) => [...csv.faults].filter(([, f]) => f === fault).map(([row]) => row);
    const errorFaults = ["size", "consent", "email", "newline", "columns"];
    const errors = errorFaults.flatMap(rowsOf).length;
    const duplicates = rowsOf("duplicate").length;

    const first = await importFile(file);
    expect(first.report.totals).toEqual({ created: csv.validEmails.size, merged: duplicates, unchanged: 0, skipped: 1, errors });
    expect(first.stdout).toContain(`${csv.validEmails.size} created, ${duplicates} merged, 0 unchanged, 1 skipped, ${errors} errors`);
    expect(first.stderr).toContain('warning: column "Favourite Colour" is not a field of the form demo-request; it is ignored.');
    expect(first.stderr.match(/Favourite Colour/g)).toHaveLength(1);

    // Each bad row names its row (header = row 1), its column as the file spells it, and why.
    const [size] = rowsOf("size");
    const [consent] = rowsOf("consent");
    const [email] = rowsOf("email");
    const [newline] = rowsOf("newline");
    const [columns] = rowsOf("columns");
    const [suppressed] = rowsOf("suppressed");
    expect(first.stderr).toContain(`row ${size}, column Company Size: must be a number such as 250`);
    expect(first.stderr).toContain(`row ${consent}, column Consent: must be given`);
    expect(first.stderr).toContain(`row ${email}, column Email: must be an email address`);
    expect(first.stderr).toContain(`row ${newline}, column company: must be a single line of plain text`);
    expect(first.stderr).toContain(`row ${columns}: has 12 values but the header has 10 columns`);
    expect(first.stderr).toContain(`row ${suppressed}: skipped, the address is suppressed (unsubscribed)`);
    const report = readFileSync(`${file}.errors.csv`, "utf8").split("\r\n").filter(Boolean);
    expect(report[0]).toBe("row,outcome,column,message");
    expect(report).toHaveLength(1 + errors + 1);
    expect(report).toContain(`${size},error,Company Size,must be a number such as 250`);

    // A quoted field with a comma and doubled quotes arrives whole; the lead is in the stack.
    const quoted = await stack.store.getLeadByEmail("lead21.imp@engines.example");
    expect(quoted?.profile.company).toBe('Engines, "Analytical" 21 Ltd');
    expect(quoted?.lastTouch).toMatchObject({ formId: "demo-request", utm_source: "import" });
    expect(await stack.store.getLeadByEmail(csv.suppressedEmail)).toBeUndefined();

    const again = await importFile(file);
    // Every row was imported before: nothing is written again (no activity, no points).
    expect(again.report.totals).toEqual({ created: 0, merged: 0, unchanged: csv.validEmails.size + duplicates, skipped: 1, errors });
    // The other tests of this file leave leads of their own; this file's addresses end in .imp@.
    const leads = (await allItems()).filter((item) => item.sk === "LEAD" && String(item.email).endsWith(".imp@engines.example"));
    expect(leads).toHaveLength(csv.validEmails.size);
    expect(new Set(leads.map((l) => l.email))).toEqual(csv.validEmails);
  }, 300_000);

  it("imports the same one-row file three times as once: no new activity, no points, no hand-off", async () => {
    const file = join(dir, "one.csv");
    const address = "ada.once@engines.example";
    // A 10-person company: fit alone stays under the threshold, a second demo request would not.
    writeFileSync(file, `email,firstName,lastName,company,title,companySize,country,consent\r\n${address},Ada,Lovelace,Engines,Analyst,10,BR,yes\r\n`);
    const scores: (number | undefined)[] = [];
    const totals = [];
    for (let run = 0; run < 3; run++) {
      const { report } = await importFile(file);
      totals.push(report.totals);
      scores.push((await stack.store.getLeadByEmail(address))?.score?.total);
    }
    expect(totals).toEqual([
      { created: 1, merged: 0, unchanged: 0, skipped: 0, errors: 0 },
      { created: 0, merged: 0, unchanged: 1, skipped: 0, errors: 0 },
      { created: 0, merged: 0, unchanged: 1, skipped: 0, errors: 0 },
    ]);
    expect(scores[0]).toBeGreaterThan(0);
    expect(scores).toEqual([scores[0], scores[0], scores[0]]);
    const lead = await stack.store.getLeadByEmail(address);
    expect(lead?.stage).toBe("lead");
    expect((await stack.store.listActivities(lead!.id)).filter((a) => a.type === "form.submitted")).toHaveLength(1);
    expect(stack.bus.history.filter((e) => e["detail-type"] === "lead.qualified" && e.detail.leadId === lead?.id)).toEqual([]);

    // The same person in a file that names its own key column: the key, not the row's content, decides.
    const keyed = join(dir, "keyed.csv");
    const write = (title: string) => writeFileSync(keyed, `crm id,email,firstName,lastName,company,title,companySize,country,consent\r\nC-1,${address},Ada,Lovelace,Engines,${title},10,BR,yes\r\n`);
    write("Analyst");
    expect((await importFile(keyed, "--key-column", "CRM ID")).report.totals).toMatchObject({ merged: 1, unchanged: 0 });
    write("Senior Analyst");
    expect((await importFile(keyed, "--key-column", "CRM ID")).report.totals).toMatchObject({ merged: 0, unchanged: 1 });
    expect((await stack.store.listActivities(lead!.id)).filter((a) => a.type === "form.submitted")).toHaveLength(2);
  }, 120_000);

  it("predicts the outcome of every row in a dry run and stores nothing", async () => {
    const file = join(dir, "dry.csv");
    const csv = writeLeadCsv(file, 150, "dry");
    await stack.store.suppress({ email: csv.suppressedEmail, reason: "bounced", at: stack.clock.now().toISOString() });
    const count = (fault: string) => [...csv.faults.values()].filter((f) => f === fault).length;
    const dry = await importFile(file, "--dry-run");
    expect(dry.report.totals).toEqual({
      created: csv.validEmails.size,
      merged: count("duplicate"),
      unchanged: 0,
      skipped: 1,
      errors: ["size", "consent", "email", "newline", "columns"].map(count).reduce((a, b) => a + b),
    });
    expect(dry.report.totals.merged).toBeGreaterThan(0);
    expect(dry.stdout).toContain("Dry run, nothing stored: would be");
    for (const address of csv.validEmails) expect(await stack.store.getLeadByEmail(address)).toBeUndefined();
  }, 120_000);

  it("says what is wrong before importing: an unknown form, a refused token, no stack at the URL", async () => {
    const file = join(dir, "small.csv");
    writeLeadCsv(file, 3, "small");
    const io = { stdout: sink(), stderr: sink(), env: {} };
    await expect(runImport([file, "--form", "nope", "--url", stack.url, "--token", adminToken], io)).rejects.toThrow(/refused the import \(404\): There is no form "nope"/);
    await expect(runImport([file, "--form", "demo-request", "--key-column", "crm id", "--url", stack.url, "--token", adminToken], io)).rejects.toThrow(
      /\(422\): .*keyColumn: names no column of the file/,
    );
    const rep = await signHs256Token({ email: "rep@acme.example", roles: ["rep"] }, stack.authSecret);
    await expect(runImport([file, "--form", "demo-request", "--url", stack.url, "--token", rep], io)).rejects.toThrow(/\(403\): This needs the role admin/);
    await expect(runImport([file, "--form", "demo-request", "--url", "http://127.0.0.1:9", "--token", adminToken], io)).rejects.toThrow(/No leadloop answers at http:\/\/127\.0\.0\.1:9.*npm start/);
  });
});
