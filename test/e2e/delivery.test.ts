/**
 * The local bus delivers under the same policy the stacks deploy (EventBridge's retries, then
 * Lambda's), on the virtual clock, and keeps what it gives up on: dead letters survive a restart
 * and `npm run redrive` replays them through the same handlers, once.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEFAULT_DELIVERY, type NurtureStore } from "@leadloop/core";
import type { StackAdapters } from "@leadloop/local";
import { describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";

const run = promisify(execFile);

/** A nurture store whose enrollments fail while `failures.left` > 0 (counting each attempt), each after `slowMs`. */
function failingEnrollments(failures: { left: number; attempts: number }, slowMs = 0) {
  return ({ nurture }: StackAdapters): Partial<StackAdapters> => ({
    nurture: new Proxy(nurture, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== "startEnrollment" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          failures.attempts++;
          if (slowMs > 0) await new Promise((resolve) => setTimeout(resolve, slowMs));
          if (failures.left > 0) {
            failures.left--;
            throw new Error("injected: the table is throttling");
          }
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    }) as NurtureStore,
  });
}

/** Below every MQL threshold, so it stays in SMB nurture whenever the enrollment lands. */
const smbLead = (email: string) => ({ email, firstName: "Ada", company: "Analytical Engines Ltd", title: "Data analyst", consent: true });

describe("delivery policy", () => {
  it("keeps retrying a failing handler past five attempts, on the clock, until it succeeds within EventBridge's policy", async () => {
    // As many failures as the old local bus had attempts (8), fewer than the policy's 1 + 8 + 2
    // (an attempt or two may also find the lead not stored yet: capture announces it first).
    const failures = { left: DEFAULT_DELIVERY.retryAttempts, attempts: 0 };
    const stack = await startTestStack({ wrapAdapters: failingEnrollments(failures) });
    try {
      const email = `retry-${randomUUID().slice(0, 8)}@analytical-engines.example`;
      const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, smbLead(email));
      expect(res.status).toBe(202);
      const { leadId } = (await res.json()) as { leadId: string };
      await stack.bus.drain();
      // The later retries wait for clock time (EventBridge's back-off, then Lambda's minute and two).
      expect(failures.attempts).toBeLessThan(1 + DEFAULT_DELIVERY.retryAttempts + DEFAULT_DELIVERY.asyncRetryAttempts);
      expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT10M" })).status).toBe(200);
      expect(failures.attempts).toBeGreaterThan(5);
      expect(failures.left).toBe(0);
      expect(stack.bus.deadLetters.map((l) => `${l.rule} ${l.attempts} ${failures.attempts}`)).toEqual([]);
      const enrollments = await stack.nurture.listEnrollments(leadId);
      expect(enrollments.map((e) => e.sequenceId)).toContain("smb-nurture");
    } finally {
      await stack.stop();
    }
  }, 60_000);

  // Found by a full run on a loaded machine: a retry's real timer fired during an advance, so the
  // delivery was running (neither waiting nor queued) when the advance looked for the next retry;
  // the advance ran to its end and the failure then scheduled its retry after it. Near retries
  // make that window likely: every one of them must still be taken inside the advance.
  it("takes every retry inside a clock advance even when their real timers fire during it", async () => {
    const failures = { left: Number.POSITIVE_INFINITY, attempts: 0 };
    const stack = await startTestStack({ busRetryDelayMs: 1, wrapAdapters: failingEnrollments(failures, 40) });
    try {
      for (let i = 0; i < 8; i++) {
        const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, smbLead(`near-${i}-${randomUUID().slice(0, 8)}@analytical-engines.example`));
        const { leadId } = (await res.json()) as { leadId: string };
        expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT1H" })).status).toBe(200);
        const letters = stack.bus.deadLetters.filter((l) => l.rule.startsWith("enroll-") && (l.event.detail as { leadId?: string }).leadId === leadId);
        expect(letters.map((l) => l.attempts), `lead ${i}`).toEqual([1 + DEFAULT_DELIVERY.retryAttempts + DEFAULT_DELIVERY.asyncRetryAttempts]);
      }
    } finally {
      await stack.stop();
    }
  }, 120_000);

  it("keeps a dead letter across a restart and replays it once with npm run redrive", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "leadloop-dead-letters-"));
    const tableName = `e2e-${randomUUID()}`;
    try {
      const failures = { left: Number.POSITIVE_INFINITY, attempts: 0 };
      const first = await startTestStack({ dataDir, tableName, wrapAdapters: failingEnrollments(failures) });
      let leadId: string;
      try {
        const email = `dead-${randomUUID().slice(0, 8)}@analytical-engines.example`;
        const res = await post(`${first.url}/v1/forms/whitepaper/submissions`, smbLead(email));
        ({ leadId } = (await res.json()) as { leadId: string });
        // Past the last of Lambda's retries: the delivery is given up.
        expect((await post(`${first.url}/dev/clock/advance`, { by: "PT1H" })).status).toBe(200);
        const letters = (await (await fetch(`${first.url}/dev/dead-letters`)).json()) as { rule: string; attempts: number; event: { detail: { leadId: string } } }[];
        expect(letters.filter((l) => l.rule.startsWith("enroll-")).map((l) => [l.rule, l.event.detail.leadId, l.attempts])).toEqual([
          ["enroll-smb-nurture", leadId, 1 + DEFAULT_DELIVERY.retryAttempts + DEFAULT_DELIVERY.asyncRetryAttempts],
        ]);
      } finally {
        await first.stop();
      }

      const second = await startTestStack({ dataDir, tableName });
      try {
        // Deliveries still owed when the first stack stopped (a busy machine) are kept beside it.
        const kept = (await (await fetch(`${second.url}/dev/dead-letters`)).json()) as { rule: string }[];
        expect(kept.filter((l) => l.rule.startsWith("enroll-")).length).toBe(1);
        expect(await second.nurture.listEnrollments(leadId)).toEqual([]);
        const cli = await run("npm", ["run", "--silent", "redrive", "--", "--url", second.url], { env: { ...process.env, LEADLOOP_URL: "" } });
        expect(cli.stdout).toMatch(new RegExp(`redriven ${kept.length}, failed again 0`));
        expect((await second.nurture.listEnrollments(leadId)).map((e) => e.sequenceId)).toEqual(["smb-nurture"]);
        expect(await (await fetch(`${second.url}/dev/dead-letters`)).json()).toEqual([]);
        // Idempotent: a second redrive finds nothing to replay.
        const again = await run("npm", ["run", "--silent", "redrive", "--", "--url", second.url]);
        expect(again.stdout).toMatch(/^0 dead letter\(s\)/);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
