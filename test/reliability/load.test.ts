/**
 * Load: a launch-day burst on the local stack. Every 202 is exactly one stored lead, a repeated
 * address merges into its lead, nothing answers 5xx and no accepted submission is lost.
 * Short in `npm test`; `npm run reliability:load` runs 10,000 submissions at 50 connections.
 */
import { randomUUID } from "node:crypto";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, startTestStack } from "../e2e/local-stack";
import { pool } from "./raw-http";
import { printFigures, sized } from "./size";

const SUBMISSIONS = sized(1_000, 10_000);
const CONNECTIONS = sized(20, 50);
const REPEAT_SHARE = 0.2;

let stack: LocalStack;
beforeAll(async () => {
  // The rate limit is per address and every request here comes from 127.0.0.1.
  stack = await startTestStack({ rateLimit: { burst: 1_000_000, perSecond: 1_000_000 } });
});
afterAll(async () => {
  await stack?.stop();
});

/** Deterministic plan: every fifth submission repeats an address planned earlier. */
function plan(runId: string): string[] {
  const emails: string[] = [];
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < SUBMISSIONS; i++) {
    const repeat = emails.length > 0 && i % Math.round(1 / REPEAT_SHARE) === Math.round(1 / REPEAT_SHARE) - 1;
    emails.push(repeat ? (emails[Math.floor(random() * emails.length)] as string) : `load-${i}-${runId}@firm${i % 97}.example`);
  }
  return emails;
}

describe(`load: ${SUBMISSIONS} submissions at ${CONNECTIONS} connections, ${REPEAT_SHARE * 100}% repeated addresses`, () => {
  it("stores every accepted submission exactly once and merges repeats", { timeout: sized(120_000, 900_000) }, async () => {
    const runId = randomUUID().slice(0, 8);
    const emails = plan(runId);
    const url = `${stack.url}/v1/forms/demo-request/submissions`;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const started = performance.now();
    const results = await pool(emails, CONNECTIONS, async (email, i) => {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(demoLead(email, { companySize: 10 + (i % 3000), lastName: `L${i}` })),
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const text = await res.text();
      if (res.status !== 202) {
        if (failures.length < 5) failures.push(`${res.status} ${text.slice(0, 300)}`);
        return { email, status: res.status, leadId: undefined };
      }
      return { email, status: res.status, leadId: (JSON.parse(text) as { leadId: string }).leadId };
    });
    const seconds = (performance.now() - started) / 1000;

    // Per address: the ids its 202s returned and how many were accepted.
    const byEmail = new Map<string, { ids: Set<string>; accepted: number }>();
    for (const r of results) {
      if (r.status !== 202 || !r.leadId) continue;
      const entry = byEmail.get(r.email) ?? { ids: new Set(), accepted: 0 };
      entry.ids.add(r.leadId);
      entry.accepted++;
      byEmail.set(r.email, entry);
    }
    const accepted = statuses.get(202) ?? 0;
    const count = (from: number, to: number) => [...statuses].filter(([s]) => s >= from && s < to).reduce((n, [, c]) => n + c, 0);

    // Every accepted address: one id, a stored lead with that address, one form.submitted per 202.
    const problems: string[] = [];
    await pool([...byEmail], 16, async ([email, { ids, accepted: n }]) => {
      if (ids.size !== 1) return void problems.push(`${email}: ${ids.size} lead ids`);
      const [leadId] = [...ids] as [string];
      const lead = await stack.store.getLead(leadId);
      if (!lead) return void problems.push(`${email}: lead ${leadId} not stored (lost)`);
      if (lead.email !== email) problems.push(`${email}: lead ${leadId} holds ${lead.email}`);
      const submitted = (await stack.store.listActivities(leadId)).filter((a) => a.type === "form.submitted").length;
      if (submitted !== n) problems.push(`${email}: ${n} accepted submissions but ${submitted} form.submitted activities`);
    });
    const leadIds = new Set([...byEmail.values()].flatMap((e) => [...e.ids]));

    printFigures("load", {
      submissions: SUBMISSIONS,
      connections: CONNECTIONS,
      "202s": accepted,
      "distinct addresses": new Set(emails).size,
      "distinct leads": leadIds.size,
      merges: accepted - leadIds.size,
      "4xx": count(400, 500),
      "5xx": count(500, 600),
      "lost or split": problems.length,
      "duration (s)": seconds.toFixed(1),
      "req/s": (SUBMISSIONS / seconds).toFixed(0),
    });

    expect(failures).toEqual([]);
    expect(count(500, 600)).toBe(0);
    expect(accepted).toBe(SUBMISSIONS);
    expect(problems.slice(0, 10)).toEqual([]);
    expect(leadIds.size).toBe(new Set(emails).size);
    // Two different addresses never share a lead.
    expect(new Set([...byEmail.values()].map((e) => [...e.ids][0])).size).toBe(byEmail.size);
  });
});
