/**
 * What a visitor types stays data: a lead's name is never parsed as a template, never becomes
 * Slack markup, and a stranger who types a known address cannot take the lead over. Emails to
 * staff are not the lead's engagement. All through the local stack's public routes.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";

interface DevEmail {
  messageId: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
}

const REPS = ["dana.whitfield@acme-analytics.example", "marcus.lee@acme-analytics.example"];
const run = Math.random().toString(36).slice(2, 8);

let stack: LocalStack;
let slack: Server;
const slackPosts: { text: string }[] = [];

beforeAll(async () => {
  slack = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      slackPosts.push(JSON.parse(body) as { text: string });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, "127.0.0.1", resolve));
  const webhook = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hooks/enterprise-na`;
  stack = await startTestStack({ env: { SLACK_WEBHOOK_ENTERPRISE_NA: webhook } });
});
afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => slack?.close(resolve));
});

const submit = (formId: string, body: Record<string, unknown>) => post(`${stack.url}/v1/forms/${formId}/submissions`, body);

async function repEmailsAbout(marker: string): Promise<DevEmail[]> {
  const out: DevEmail[] = [];
  for (const rep of REPS) {
    const res = await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(rep)}`);
    out.push(...((await res.json()) as DevEmail[]).filter((e) => e.text.includes(marker)));
  }
  return out;
}

describe("lead data is never a template", () => {
  it("tells the rep the lead's name exactly as typed, in the email subject, body and Slack", async () => {
    const email = `liquid.${run}@bigco.example`;
    const res = await submit(
      "demo-request",
      demoLead(email, { firstName: "{{ 6 | times: 7 }}", lastName: `{% if x %}${run}`, company: "{{ rep.email }} & <b>Co</b>", country: "US" }),
    );
    expect(res.status).toBe(202);
    await stack.bus.drain();

    const [handoff, ...more] = await repEmailsAbout(email);
    expect(more).toEqual([]);
    expect(handoff?.subject).toBe(`New qualified lead: {{ 6 | times: 7 }} {% if x %}${run} ({{ rep.email }} & <b>Co</b>)`);
    expect(handoff?.subject).not.toContain("42");
    expect(handoff?.text).toContain("Company:  {{ rep.email }} & <b>Co</b>");
    expect(handoff?.html).toContain("{{ rep.email }} &amp; &lt;b&gt;Co&lt;/b&gt;");

    // Slack: the lead's values are escaped (& < >), the link the message adds is not.
    const posted = slackPosts.find((p) => p.text.includes(run));
    expect(posted?.text).toContain(`*{{ 6 | times: 7 }} {% if x %}${run} ({{ rep.email }} &amp; &lt;b&gt;Co&lt;/b&gt;)*`);
    expect(posted?.text).toMatch(/<http:\/\/[^|>]+\/sales\?lead=[0-9a-f-]+\|open on \/sales>/);
  });
});

describe("emails to staff are not the lead's engagement", () => {
  it("ignores a rep opening and clicking the hand-off email", async () => {
    const email = `open.${run}@bigco.example`;
    const res = await submit("demo-request", demoLead(email, { lastName: `Opener${run}`, country: "US" }));
    const { leadId } = (await res.json()) as { leadId: string };
    await stack.bus.drain();
    const [handoff] = await repEmailsAbout(email);
    expect(handoff).toBeDefined();
    const before = (await stack.store.getLead(leadId))?.score?.total;
    expect(before).toBeGreaterThan(0);

    expect((await post(`${stack.url}/dev/emails/${handoff?.messageId}/open`, {})).status).toBe(202);
    expect((await post(`${stack.url}/dev/emails/${handoff?.messageId}/click`, {})).status).toBe(202);
    await stack.bus.drain();

    expect((await stack.store.getLead(leadId))?.score?.total).toBe(before);
    const types = (await stack.store.listActivities(leadId)).map((a) => a.type);
    expect(types).not.toContain("email.opened");
    expect(types).not.toContain("email.clicked");
  });
});

describe("a stranger cannot take over a lead", () => {
  it("answers a known address with its lead id but no token, and only fills the blanks", async () => {
    const email = `owner.${run}@smallco.example`;
    const first = await submit("whitepaper", { email, firstName: "Grace", company: "SmallCo", title: "Analyst", consent: true });
    expect(first.status).toBe(202);
    const owner = (await first.json()) as { leadId: string; token?: string };
    expect(owner.token).toBeDefined();
    await stack.bus.drain();
    const created = await stack.store.getLead(owner.leadId);

    const stranger = await submit("demo-request", demoLead(` ${email.toUpperCase()}`, { firstName: "Mallory", company: "Evil Corp", title: "CEO", country: "US" }));
    expect(stranger.status).toBe(202);
    const answer = (await stranger.json()) as Record<string, unknown>;
    expect(answer).toEqual({ leadId: owner.leadId });
    await stack.bus.drain();

    const lead = await stack.store.getLead(owner.leadId);
    // Known values stay; blank ones fill.
    expect(lead?.profile).toMatchObject({ firstName: "Grace", company: "SmallCo", title: "Analyst", lastName: "Lovelace", companySize: 1500 });
    // Consent and first touch never change.
    expect(lead?.consents).toEqual(created?.consents);
    expect(lead?.firstTouch).toEqual(created?.firstTouch);
    // What the stranger typed is kept as the submission's record, for a person to review.
    const submitted = (await stack.store.listActivities(owner.leadId)).filter((a) => a.type === "form.submitted");
    expect(submitted).toHaveLength(2);
    expect(JSON.stringify(submitted)).toContain("Mallory");
  });

  it("lets the lead's own browser (its token) update what it told us", async () => {
    const email = `self.${run}@smallco.example`;
    const first = await submit("whitepaper", { email, firstName: "Ada", company: "SmallCo", title: "Analyst", consent: true });
    const { leadId, token } = (await first.json()) as { leadId: string; token: string };
    const again = await submit("whitepaper", { email, firstName: "Ada", company: "SmallCo", title: "Head of Data", consent: true, leadToken: token });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ leadId });
    expect((await stack.store.getLead(leadId))?.profile.title).toBe("Head of Data");
  });

  it("refuses a lead token that belongs to another lead as proof", async () => {
    const a = (await (await submit("whitepaper", { email: `a.${run}@smallco.example`, firstName: "A", company: "A", title: "Analyst", consent: true })).json()) as { token: string };
    const b = (await (await submit("whitepaper", { email: `b.${run}@smallco.example`, firstName: "B", company: "B", title: "Analyst", consent: true })).json()) as { leadId: string };
    const res = await submit("whitepaper", { email: `b.${run}@smallco.example`, firstName: "B", company: "B", title: "CEO", consent: true, leadToken: a.token });
    expect(res.status).toBe(202);
    expect((await stack.store.getLead(b.leadId))?.profile.title).toBe("Analyst");
  });
});
