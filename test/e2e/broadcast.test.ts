/**
 * A broadcast reaches exactly the leads it may, once each: captured over HTTP, the newsletter
 * (config/broadcasts/) goes out when the virtual clock reaches its local send time, to confirmed
 * subscribers only (not the unconfirmed, the unsubscribed, or leads who never consented to the
 * newsletter), a sender crashing after SES took an email never sends it again, and the dry run's
 * count is what was sent. On the local stack with the real engines.
 */
import { signHs256Token } from "@leadloop/api";
import { type BroadcastDryRun, type BroadcastProgress, type BroadcastStore, type FunnelReport, unsubscribeUrl } from "@leadloop/core";
import type { LocalStack, StackAdapters } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as broadcastCli } from "../../packages/local/src/broadcast-cli";
import { demoLead, post, startTestStack } from "./local-stack";

interface DevEmail {
  to?: string;
  from: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

const run = Math.random().toString(36).slice(2, 8);
const BROADCAST = "newsletter-2027-01";
/** Settles that fail once, after SES took the email: a sender dying between the send and its record. */
const crashOnSettle = new Set<string>();

function crashing(inner: BroadcastStore): BroadcastStore {
  return {
    recipients: inner.recipients,
    getState: (id) => inner.getState(id),
    createState: (state) => inner.createState(state),
    saveState: (state, version) => inner.saveState(state, version),
    scanLeads: (cursor, limit) => inner.scanLeads(cursor, limit),
    addRecipients: (recipients) => inner.addRecipients(recipients),
    claimRecipient: (ref, claim, now) => inner.claimRecipient(ref, claim, now),
    tally: (id) => inner.tally(id),
    settleRecipient: async (ref, token, outcome) => {
      if ("status" in outcome && outcome.status === "sent" && crashOnSettle.delete(ref.leadId)) throw new Error("sender stopped after the send");
      return inner.settleRecipient(ref, token, outcome);
    },
  };
}

let stack: LocalStack;
let marketing: string;

beforeAll(async () => {
  // The Monday before the newsletter's Tuesday 10:00 (Europe/London) send.
  stack = await startTestStack({
    clockStartAt: "2027-01-11T08:00:00Z",
    wrapAdapters: (bare: StackAdapters) => ({ broadcasts: crashing(bare.broadcasts) }),
  });
  marketing = await signHs256Token({ email: "mia@acme.example", roles: ["marketing"] }, stack.authSecret);
});
afterAll(async () => {
  await stack?.stop();
});

async function subscribe(email: string, confirm: boolean): Promise<string> {
  const res = await post(`${stack.url}/v1/forms/newsletter/submissions`, { email, firstName: "Nina", consent: true });
  expect(res.status).toBe(202);
  await stack.bus.drain();
  const { leadId } = (await res.json()) as { leadId: string };
  if (confirm) {
    const sent = (await emailsTo(email)).find((e) => e.text.includes("/v1/confirm?token="));
    const link = /(http[^\s"<]+\/v1\/confirm\?token=[^\s"<]+)/.exec(sent?.text ?? "")?.[1];
    expect(link).toBeDefined();
    expect((await fetch(link!, { method: "POST", headers: { accept: "text/html" } })).status).toBe(200);
    await stack.bus.drain();
  }
  return leadId;
}

async function emailsTo(address: string): Promise<DevEmail[]> {
  return (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`)).json()) as DevEmail[];
}
const newsletters = async (address: string) => (await emailsTo(address)).filter((e) => e.subject.includes("this month"));

const api = (path: string, method = "GET") => fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${marketing}` } });

describe("broadcasts", () => {
  it("sends the newsletter once to each confirmed subscriber, and the dry run counted exactly them", async () => {
    const confirmed = [`ana.${run}@example.org`, `ben.${run}@example.org`, `cy.${run}@example.org`];
    for (const address of confirmed) await subscribe(address, true);
    const unconfirmed = `una.${run}@example.org`;
    await subscribe(unconfirmed, false);
    const leaving = `lea.${run}@example.org`;
    const leavingId = await subscribe(leaving, true);
    const unsubscribe = await fetch(unsubscribeUrl(stack.deps.settings, stack.signer, leavingId, stack.clock.now()), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(unsubscribe.status).toBe(200);
    // Consented on the demo form, never to the newsletter.
    const demo = `dee.${run}@engines.example`;
    expect((await post(`${stack.url}/v1/forms/demo-request/submissions`, demoLead(demo))).status).toBe(202);
    await stack.bus.drain();

    const dry = await api(`/v1/broadcasts/${BROADCAST}/dry-run`, "POST");
    expect(dry.status).toBe(200);
    const counted = (await dry.json()) as BroadcastDryRun;
    expect(counted.recipients).toBe(confirmed.length);
    // The unconfirmed and the unsubscribed are out by their stage, the demo lead by its consent.
    expect(counted.excluded).toEqual({ stage: 2, consent: 1 });
    // The CLI asks the same route of the running stack.
    let printed = "";
    const cliEnv = { LEADLOOP_URL: stack.url, LEADLOOP_AUTH_SECRET: stack.authSecret };
    expect(await broadcastCli(["--dry-run", BROADCAST], cliEnv, (t) => (printed += t))).toBe(0);
    expect(printed).toContain(`${confirmed.length} recipients if sent now`);

    // One sender dies after SES took Ben's email and before it was settled.
    crashOnSettle.add((await stack.store.getLeadByEmail(confirmed[1]!))!.id);
    expect((await post(`${stack.url}/dev/clock/advance`, { by: "P2D" })).status).toBe(200);
    await stack.bus.drain();

    for (const address of confirmed) {
      const got = await newsletters(address);
      expect(got, address).toHaveLength(1);
      expect(got[0]?.text).toContain("/v1/unsubscribe?token=");
    }
    for (const address of [unconfirmed, leaving, demo]) expect(await newsletters(address), address).toHaveLength(0);

    // What /preview shows for a subscriber is the email that subscriber got (bar the unsubscribe
    // token, which a preview signs for no lead): the sender and the preview compose it one way.
    const [received] = await newsletters(confirmed[0]!);
    const leadId = (await stack.store.getLeadByEmail(confirmed[0]!))!.id;
    const preview = await api(`/v1/preview/email?item=${encodeURIComponent(`broadcast:${BROADCAST}`)}&leadId=${leadId}`);
    expect(preview.status).toBe(200);
    const shown = ((await preview.json()) as { email: Omit<DevEmail, "to"> & { to: string } }).email;
    const withoutTokens = (s: string) => s.replace(/token(=|%3D)[A-Za-z0-9._~%-]+/g, "token=…");
    expect(shown.subject).toBe(received!.subject);
    expect(shown.from).toBe(received!.from);
    expect(shown.to).toBe(confirmed[0]);
    expect(withoutTokens(shown.html)).toBe(withoutTokens(received!.html));
    expect(withoutTokens(shown.text)).toBe(withoutTokens(received!.text));
    expect(shown.text).toContain("Newsletter: January 2027");
    expect(withoutTokens(shown.headers["List-Unsubscribe"]!)).toBe(withoutTokens(received!.headers["List-Unsubscribe"]!));

    const progress = (await (await api(`/v1/broadcasts/${BROADCAST}`)).json()) as BroadcastProgress;
    expect(progress).toMatchObject({ status: "queued", sent: counted.recipients, remaining: 0 });
    expect(crashOnSettle.size).toBe(0);
    // Eleven HTTP captures and confirmations, two days of clock and a lapsed claim: slow on a busy machine.
  }, 90_000);

  it("names an unknown broadcast in a problem", async () => {
    const res = await api("/v1/broadcasts/no-such/dry-run", "POST");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(((await res.json()) as { detail: string }).detail).toContain(BROADCAST);
  });

  it("shows the broadcast's sends in the funnel report", async () => {
    const to = stack.clock.now().toISOString().slice(0, 10);
    const report = (await (await api(`/v1/reports/funnel?from=2027-01-10&to=${to}`)).json()) as FunnelReport & {
      broadcasts?: { broadcastId: string; sent: number }[];
    };
    expect(report.broadcasts?.find((b) => b.broadcastId === BROADCAST)?.sent).toBe(3);
  });
});
