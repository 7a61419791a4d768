/**
 * A realistic event stream for the funnel report on the local stack: real captures through the
 * form route, then the events the other handlers and SES would publish for those leads (sends,
 * opens and clicks, qualification, claims, outcomes), put on the local bus as AWS would deliver them.
 */
import { randomUUID } from "node:crypto";
import type { EventEnvelope } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { demoLead, post } from "./local-stack";

const hours = (base: Date, h: number) => new Date(base.getTime() + h * 3_600_000).toISOString();

export function sesEvent(type: "Email Opened" | "Email Clicked" | "Email Bounced", tags: Record<string, string>, at: string): EventEnvelope {
  const field = { "Email Opened": "open", "Email Clicked": "click", "Email Bounced": "bounce" }[type];
  return {
    version: "0",
    id: randomUUID(),
    source: "aws.ses",
    "detail-type": type,
    account: "000000000000",
    region: "local",
    time: at,
    resources: [],
    detail: {
      eventType: type.split(" ")[1],
      mail: {
        timestamp: at,
        messageId: `ses-${tags.message}`,
        tags: Object.fromEntries([...Object.entries(tags).map(([k, v]) => [k, [v]]), ["ses:configuration-set", ["leadloop-local"]]]),
      },
      [field]: { timestamp: at },
    },
  };
}

async function capture(stack: LocalStack, formId: string, body: Record<string, unknown>): Promise<string> {
  const res = await post(`${stack.url}/v1/forms/${formId}/submissions`, body);
  if (res.status !== 202) throw new Error(`capture failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { leadId: string }).leadId;
}

export interface SeededFunnel {
  leads: { won: string; lost: string; open: string; newsletter: string };
  /** The event redelivered to prove it counts once. */
  redelivered: EventEnvelope;
}

/** Four leads: one won after two nurture emails, one lost on price, one only opened, one still waiting. */
export async function seedFunnel(stack: LocalStack, tag = randomUUID().slice(0, 8)): Promise<SeededFunnel> {
  const now = stack.clock.now();
  const won = await capture(stack, "demo-request", demoLead(`won-${tag}@bigcorp.example`, { utm_source: "google", utm_medium: "cpc", utm_campaign: "q1" }));
  const lost = await capture(stack, "demo-request", demoLead(`lost-${tag}@bigcorp.example`, { utm_source: "linkedin" }));
  const open = await capture(stack, "whitepaper", { email: `reader-${tag}@smallco.example`, firstName: "Rae", company: "Small Co", title: "Analyst", consent: true, utm_source: "linkedin" });
  const newsletter = await capture(stack, "demo-request", demoLead(`direct-${tag}@bigcorp.example`));
  await stack.bus.drain();

  const messages = [
    { leadId: won, messageId: `m-${tag}-1`, sequenceId: "report-nurture", stepId: "welcome", at: hours(now, 1) },
    { leadId: won, messageId: `m-${tag}-2`, sequenceId: "report-nurture", stepId: "case-study", at: hours(now, 30) },
    { leadId: lost, messageId: `m-${tag}-3`, sequenceId: "report-nurture", stepId: "welcome", at: hours(now, 1) },
    { leadId: open, messageId: `m-${tag}-4`, sequenceId: "report-nurture", stepId: "welcome", at: hours(now, 1) },
  ];
  for (const m of messages) {
    await stack.nurture.recordMessage({ messageId: m.messageId, providerMessageId: `ses-${m.messageId}`, leadId: m.leadId, kind: "nurture", sequenceId: m.sequenceId, stepId: m.stepId, sentAt: m.at });
    await stack.bus.publish([{ type: "email.sent", detail: { leadId: m.leadId, sequenceId: m.sequenceId, stepId: m.stepId, messageId: m.messageId }, time: m.at }]);
  }
  const tags = (m: (typeof messages)[number]) => ({ lead: m.leadId, sequence: m.sequenceId, step: m.stepId, message: m.messageId });
  const [m1, m2, m3, m4] = messages as [(typeof messages)[number], (typeof messages)[number], (typeof messages)[number], (typeof messages)[number]];
  const opened = sesEvent("Email Opened", tags(m1), hours(now, 2));
  stack.bus.put(opened);
  stack.bus.put(sesEvent("Email Clicked", tags(m1), hours(now, 2.5)));
  stack.bus.put(sesEvent("Email Opened", tags(m2), hours(now, 31)));
  stack.bus.put(sesEvent("Email Opened", tags(m3), hours(now, 3)));
  stack.bus.put(sesEvent("Email Opened", tags(m4), hours(now, 5)));
  await stack.bus.drain();

  const close = (leadId: string, h: number, outcome: Record<string, unknown>) =>
    stack.bus.publish([{ type: "lead.closed", detail: { leadId, teamId: "enterprise", rep: "dana.whitfield@acme-analytics.example", closedAt: hours(now, h), ...outcome } }]);
  for (const [leadId, offset] of [
    [won, 0],
    [lost, 10],
  ] as const) {
    await stack.bus.publish([{ type: "lead.qualified", detail: { leadId, segment: "enterprise", score: 80, threshold: 60, qualifiedAt: hours(now, 40 + offset), reasons: ["demo request"] } }]);
    await stack.bus.publish([{ type: "lead.claimed", detail: { leadId, teamId: "enterprise", rep: "dana.whitfield@acme-analytics.example", claimedAt: hours(now, 42 + offset) } }]);
  }
  await stack.bus.drain();
  await close(won, 140, { outcome: "won", amount: 24000, currency: "EUR" });
  await close(lost, 100, { outcome: "lost", reason: "price" });
  await stack.bus.drain();
  // EventBridge delivers at least once: the same open arrives again.
  stack.bus.put(opened);
  await stack.bus.drain();
  return { leads: { won, lost, open, newsletter }, redelivered: opened };
}
