/**
 * Preview, test-send and the journey view through the public HTTP routes of the local stack:
 * the preview of a step for a real lead is the email the sweeper sent that lead; a test send
 * lands in the SES emulator marked as a test and is nobody's engagement; the journey view counts
 * the leads captured through the public form route at the step each waits for; bad input is a
 * problem naming its field; and with the guard on (as deployed) the routes need the marketing role.
 */
import { randomUUID } from "node:crypto";
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, startTestStack } from "./local-stack";

interface DevEmail {
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  leadId?: string;
  sequenceId?: string;
  stepId?: string;
}

interface Preview {
  item: { id: string; label: string };
  email: { from: string; to: string; subject: string; html: string; text: string; headers: Record<string, string> };
  lead: { source: string; segment: string };
}

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ tickEveryMs: 3_600_000 });
});
afterAll(async () => {
  await stack?.stop();
});

const unique = (name: string) => `${name}.${randomUUID().slice(0, 8)}@northwind-preview.example`;

async function capture(body: Record<string, unknown>): Promise<string> {
  const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, body);
  expect(res.status).toBe(202);
  await stack.bus.drain();
  return ((await res.json()) as { leadId: string }).leadId;
}

const smbLead = (email: string) => ({ email, firstName: "Grace", company: "Northwind Traders", title: "Analyst", consent: true });

async function emailsTo(address: string): Promise<DevEmail[]> {
  return (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(address)}`)).json()) as DevEmail[];
}

/** Six-hour advances until `address` has an email: where the send window falls depends on the real date. */
async function advanceUntilEmail(address: string): Promise<DevEmail[]> {
  for (let i = 0; i < 20; i++) {
    expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT6H" })).status).toBe(200);
    const emails = await emailsTo(address);
    if (emails.length > 0) return emails;
  }
  return emailsTo(address);
}

/** The unsubscribe token differs by design (a preview's is signed for no lead); everything else must not. */
const withoutTokens = (s: string) => s.replace(/token(=|%3D)[A-Za-z0-9._~%-]+/g, "token=…");

async function getJson<T>(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T; type: string }> {
  const res = await fetch(`${stack.url}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as T, type: res.headers.get("content-type") ?? "" };
}

describe("preview and test-send", () => {
  it("lists every sequence step, and a step previewed for a real lead is the email the sweeper sent", async () => {
    const { body: list } = await getJson<{ items: { id: string; kind: string }[] }>("/v1/preview/emails");
    const steps = stack.config.sequences.flatMap((s) => s.steps.map((step) => `step:${s.id}/${step.id}`));
    expect(list.items.filter((i) => i.kind === "step").map((i) => i.id)).toEqual(steps);

    const address = unique("grace");
    const leadId = await capture(smbLead(address));
    const [sent] = await advanceUntilEmail(address);
    expect(sent?.stepId).toBe("welcome");
    const { status, body } = await getJson<Preview>(`/v1/preview/email?item=${encodeURIComponent(`step:${sent!.sequenceId}/${sent!.stepId}`)}&leadId=${leadId}`);
    expect(status).toBe(200);
    expect(body.lead).toMatchObject({ source: "lead", segment: "smb" });
    expect(body.email.subject).toBe(sent!.subject);
    expect(body.email.subject).toContain("Grace");
    expect(body.email.from).toBe(sent!.from);
    expect(body.email.to).toBe(address);
    expect(withoutTokens(body.email.html)).toBe(withoutTokens(sent!.html));
    expect(withoutTokens(body.email.text)).toBe(withoutTokens(sent!.text));
    expect(withoutTokens(body.email.headers["List-Unsubscribe"]!)).toBe(withoutTokens(sent!.headers["List-Unsubscribe"]!));
    expect(body.email.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
  });

  it("renders for a sample lead built from a form's fields", async () => {
    const { status, body } = await getJson<Preview & { lead: { profile: Record<string, unknown> } }>(
      "/v1/preview/email?item=step:enterprise-nurture/case-study&form=demo-request",
    );
    expect(status).toBe(200);
    expect(body.lead.source).toBe("sample");
    expect(Object.keys(body.lead.profile)).toEqual(expect.arrayContaining(["firstName", "company"]));
    expect(body.email.subject).toBe("How Northwind cut reporting time by 70%");
    expect(body.email.html).toContain("unsubscribe");
  });

  it("sends a test through the same mailer, marked as a test, counted for no lead", async () => {
    const lead = unique("ada");
    const leadId = await capture(smbLead(lead));
    const tester = unique("marketer");
    const res = await post(`${stack.url}/v1/preview/test-send`, { item: "step:smb-nurture/quick-start", to: tester, leadId });
    expect(res.status).toBe(202);
    const [email, ...more] = await emailsTo(tester);
    expect(more).toEqual([]);
    expect(email?.subject).toBe("[Test] Your first dashboard in 15 minutes");
    expect(email?.headers["X-Leadloop-Test"]).toBe("true");
    expect(email?.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(email?.leadId).toBeUndefined();
    expect(await emailsTo(lead)).toEqual([]);
    const activity = await stack.store.listActivities(leadId);
    expect(activity.map((a) => a.type)).not.toContain("email.sent");

    // Its unsubscribe link unsubscribes nobody: not the lead it was rendered for.
    const link = /<(http[^>]+)>/.exec(email!.headers["List-Unsubscribe"]!)![1]!;
    expect((await fetch(link, { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } })).status).toBeLessThan(500);
    expect(await stack.store.getSuppression(lead)).toBeUndefined();

    // Once the lead unsubscribes for real, its preview says the sweeper would not send it.
    await stack.store.suppress({ email: lead, reason: "unsubscribed", at: stack.clock.now().toISOString() });
    const { body } = await getJson<Preview & { lead: { notSentBecause?: string } }>(`/v1/preview/email?item=step:smb-nurture/quick-start&leadId=${leadId}`);
    expect(body.lead.notSentBecause).toBe("unsubscribed");
  });

  it("answers bad input with a problem naming the field", async () => {
    const noItem = await getJson<{ errors: { field: string }[] }>("/v1/preview/email");
    expect(noItem.status).toBe(422);
    expect(noItem.type).toContain("application/problem+json");
    expect(noItem.body.errors.map((e) => e.field)).toEqual(["item"]);

    const badForm = await getJson<{ errors: { field: string }[] }>("/v1/preview/email?item=step:smb-nurture/welcome&form=nope");
    expect(badForm.status).toBe(422);
    expect(badForm.body.errors.map((e) => e.field)).toEqual(["form"]);

    expect((await getJson("/v1/preview/email?item=step:smb-nurture/nope")).status).toBe(404);
    expect((await getJson("/v1/preview/email?item=step:smb-nurture/welcome&leadId=no-such-lead")).status).toBe(404);

    const badTo = await post(`${stack.url}/v1/preview/test-send`, { item: "step:smb-nurture/welcome", to: "not-an-address" });
    expect(badTo.status).toBe(422);
    expect(((await badTo.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(["to"]);
    const notJson = await post(`${stack.url}/v1/preview/test-send`, "{");
    expect(notJson.status).toBe(400);
  });
});

describe("journeys", () => {
  it("counts the leads captured through the form route at the step each waits for", async () => {
    type Journeys = { journeys: { id: string; entry: { rule: string }; frequencyCap?: { max: number }; steps: { id: string; waiting: number; condition?: string }[] }[] };
    const before = (await getJson<Journeys>("/v1/journeys")).body;
    const waiting = (j: Journeys, sequence: string, step: string) => j.journeys.find((s) => s.id === sequence)!.steps.find((s) => s.id === step)!.waiting;
    for (let i = 0; i < 3; i++) await capture(smbLead(unique(`count${i}`)));
    const after = (await getJson<Journeys>("/v1/journeys")).body;
    expect(waiting(after, "smb-nurture", "welcome") - waiting(before, "smb-nurture", "welcome")).toBe(3);

    const smb = after.journeys.find((j) => j.id === "smb-nurture")!;
    expect(smb.entry.rule).toContain("company");
    expect(smb.frequencyCap?.max).toBe(3);
    expect(smb.steps.find((s) => s.id === "pricing")?.condition).toBe("only if the previous email was clicked");
  });
});

describe("guarded as in a deployed stage", () => {
  it("needs a bearer token with the marketing role", async () => {
    const guarded = await startTestStack({ tableName: stack.tableName, openMarketingTools: false, tickEveryMs: 3_600_000 });
    try {
      expect((await fetch(`${guarded.url}/v1/preview/emails`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/v1/journeys`)).status).toBe(401);
      // The broadcasts' progress and dry run, which /preview shows, are guarded the same way.
      expect((await fetch(`${guarded.url}/v1/broadcasts/${stack.config.broadcasts[0]!.id}/dry-run`, { method: "POST" })).status).toBe(401);
      expect((await fetch(`${guarded.url}/v1/broadcasts`)).status).toBe(401);
      const rep = await signHs256Token({ email: "dana@acme.example", roles: ["rep"] }, guarded.authSecret);
      expect((await fetch(`${guarded.url}/v1/preview/emails`, { headers: { authorization: `Bearer ${rep}` } })).status).toBe(403);
      const marketing = await signHs256Token({ email: "mia@acme.example", roles: ["marketing"] }, guarded.authSecret);
      expect((await fetch(`${guarded.url}/v1/journeys`, { headers: { authorization: `Bearer ${marketing}` } })).status).toBe(200);
      // The page itself is a shell that asks for the token.
      expect((await fetch(`${guarded.url}/preview`)).status).toBe(200);
    } finally {
      await guarded.stop();
    }
  });
});
