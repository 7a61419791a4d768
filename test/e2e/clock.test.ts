/**
 * The virtual clock sends what fell due: one advance runs every job at every due moment it
 * crosses, so a step due inside a send window is sent whatever the real time of day the stack was
 * started at (each case starts the clock at a given instant).
 */
import { randomUUID } from "node:crypto";
import type { LocalStack } from "@leadloop/local";
import { describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";

interface DevEmail {
  to: string[];
  subject: string;
  sequenceId?: string;
  stepId?: string;
  virtualSentAt?: string;
}

async function emailsTo(stack: LocalStack, address: string): Promise<DevEmail[]> {
  return (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`)).json()) as DevEmail[];
}

const londonTime = (at: Date) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", weekday: "short", hour: "2-digit", minute: "2-digit", hour12: false }).format(at);

/** Inside the SMB sequence's send window: Monday to Friday, 08:30–18:00 London time. */
function inSmbWindow(at: Date): boolean {
  const [day, time] = londonTime(at).split(" ");
  return ["Mon", "Tue", "Wed", "Thu", "Fri"].includes(day ?? "") && (time ?? "") >= "08:30" && (time ?? "") < "18:00";
}

// 2027-01-01 is a Friday. The SMB sequence sends Monday to Friday, 08:30–18:00 London time.
const STARTS = {
  "Friday 22:00 UTC": "2027-01-08T22:00:00Z",
  "Saturday 10:00 UTC": "2027-01-09T10:00:00Z",
  "Tuesday 22:00 UTC": "2027-01-12T22:00:00Z",
  "Wednesday 03:00 UTC": "2027-01-13T03:00:00Z",
};

describe("a clock advance", () => {
  for (const [when, startAt] of Object.entries(STARTS)) {
    it(`sends a whitepaper lead submitted on ${when} its welcome email after one P3D advance`, async () => {
      const stack = await startTestStack({ clockStartAt: startAt, ...(process.env.CLOCK_LOG ? { logLevel: "info" as const } : {}) });
      try {
        const email = `whitepaper-${randomUUID().slice(0, 8)}@analytical-engines.example`;
        const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, {
          email,
          firstName: "Ada",
          company: "Analytical Engines Ltd",
          title: "Data analyst",
          consent: true,
        });
        expect(res.status).toBe(202);
        // No drain and no pause: the advance itself first waits for the deliveries in flight.
        const started = Date.now();
        const advanced = await post(`${stack.url}/dev/clock/advance`, { by: "P3D" });
        expect(advanced.status).toBe(200);
        const elapsed = Date.now() - started;
        const emails = await emailsTo(stack, email);
        expect(emails.map((e) => `${e.sequenceId}/${e.stepId}`)[0]).toBe("smb-nurture/welcome");
        for (const e of emails) expect(inSmbWindow(new Date(e.virtualSentAt ?? "")), `${e.stepId} at ${e.virtualSentAt}`).toBe(true);
        const sentAt = new Date(emails[0]?.virtualSentAt ?? "");
        const london = londonTime(sentAt);
        console.log(`${when}: welcome sent ${sentAt.toISOString()} (${london} London), P3D advance took ${elapsed} ms`);
      } finally {
        await stack.stop();
      }
    }, 60_000);
  }

  // A sweep that fails is run again a minute later, as its next cron run would be; one that keeps
  // failing is tried at growing intervals, never left until the end of the advance (past the window).
  for (const { outage, within } of [
    { outage: 1, within: 5 },
    { outage: 10, within: 30 },
  ]) it(`runs again a sweep that failed for ${outage} min from the step's moment, inside the window (${within} min)`, async () => {
    // Wednesday 03:00: the welcome falls due at 08:30 London, and the sweeps from that moment fail.
    let stack: LocalStack | undefined;
    let failed = 0;
    const windowOpens = new Date("2027-01-13T08:30:00Z").getTime();
    stack = await startTestStack({
      clockStartAt: STARTS["Wednesday 03:00 UTC"],
      ...(process.env.CLOCK_LOG ? { logLevel: "info" as const } : {}),
      wrapAdapters: ({ nurture }) => ({
        nurture: new Proxy(nurture, {
          get(target, property, receiver) {
            const value = Reflect.get(target, property, receiver) as unknown;
            if (typeof value !== "function") return value;
            if (property !== "listDue") return value.bind(target);
            return async (...args: unknown[]) => {
              // The table throttles every listing for `outage` minutes from the window's opening.
              if (stack && stack.clock.now().getTime() >= windowOpens && stack.clock.now().getTime() < windowOpens + outage * 60_000) {
                failed++;
                throw new Error("injected: the table is throttling");
              }
              return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            };
          },
        }),
      }),
    });
    try {
      const email = `again-${randomUUID().slice(0, 8)}@analytical-engines.example`;
      const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email, firstName: "Ada", company: "Analytical Engines Ltd", title: "Data analyst", consent: true });
      expect(res.status).toBe(202);
      const advanced = await post(`${stack.url}/dev/clock/advance`, { by: "P3D" });
      expect(advanced.status).toBe(200);
      expect(failed).toBeGreaterThan(0);
      const emails = await emailsTo(stack, email);
      expect(emails.map((e) => e.stepId)[0]).toBe("welcome");
      expect(new Date(emails[0]?.virtualSentAt ?? "").getTime() - windowOpens).toBeLessThan(within * 60_000);
    } finally {
      await stack.stop();
    }
  }, 60_000);

  it("runs P30D of a sequence in one advance, every step in its window", async () => {
    const stack = await startTestStack({ clockStartAt: STARTS["Friday 22:00 UTC"] });
    try {
      const email = `month-${randomUUID().slice(0, 8)}@analytical-engines.example`;
      const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email, firstName: "Ada", company: "Analytical Engines Ltd", title: "Data analyst", consent: true });
      expect(res.status).toBe(202);
      const started = Date.now();
      const advanced = await post(`${stack.url}/dev/clock/advance`, { by: "P30D" });
      expect(advanced.status).toBe(200);
      const { moments } = (await advanced.json()) as { moments: number };
      const elapsed = Date.now() - started;
      const emails = await emailsTo(stack, email);
      const steps = emails.map((e) => e.stepId);
      for (const e of emails) expect(inSmbWindow(new Date(e.virtualSentAt ?? "")), `${e.stepId} at ${e.virtualSentAt}`).toBe(true);
      // The pricing step needs a click, which nobody made.
      expect(steps).toEqual(["welcome", "quick-start", "customer-story"]);
      console.log(`P30D advance: ${elapsed} ms, ${moments} due moments`);
      // It jumps from one due moment to the next (a handful), not through 43,200 one-minute steps.
      expect(moments).toBeLessThan(50);
    } finally {
      await stack.stop();
    }
  }, 60_000);
});
