import { describe, expect, it } from "vitest";
import type { Sequence } from "../config/schema";
import { matchesPattern, validatePattern } from "./pattern-matcher";
import {
  allRules,
  BUS_SOURCE,
  DuplicateRuleNameError,
  type EventEnvelope,
  EventEnvelope as EventEnvelopeSchema,
  handlerRules,
  LeadloopEventType,
  routingRules,
} from "./routing-rules";

function sequence(id: string, segment: string): Sequence {
  return {
    id,
    name: id,
    segment,
    sendWindow: { days: ["mon", "tue", "wed", "thu", "fri"], start: "09:00", end: "17:00", timezone: "UTC" },
    exitOn: ["lead.qualified", "lead.unsubscribed", "lead.closed"],
    steps: [{ id: "welcome", delay: "PT0S", template: "welcome", subject: "Welcome" }],
  };
}

const config = {
  sequences: [
    sequence("enterprise-nurture", "enterprise"),
    sequence("smb-nurture", "smb"),
    sequence("smb-webinar-followup", "smb"),
    sequence("student-drip", "students"),
  ],
};
const segments = ["enterprise", "smb", "students", "unknown"];

function envelope(detailType: string, detail: Record<string, unknown>, source = BUS_SOURCE): EventEnvelope {
  return {
    id: "9b0e7f5e-1c1c-4d3a-9a57-3f1f3f0c0001",
    source,
    "detail-type": detailType,
    time: "2025-03-04T10:00:00Z",
    account: "123456789012",
    region: "eu-west-1",
    resources: [],
    detail,
  };
}

const leadEvent = (type: LeadloopEventType, segment = "enterprise") =>
  envelope(type, { leadId: "lead-1", segment, email: "ada@example.com" });

function targetsFor(event: EventEnvelope): string[] {
  return allRules(config)
    .filter((rule) => matchesPattern(rule.pattern, event))
    .map((rule) => (rule.target === "enroll" ? `enroll:${rule.sequenceId}` : rule.target));
}

describe("routingRules", () => {
  const rules = routingRules(config);

  it("makes one enroll rule per sequence, named after it", () => {
    expect(rules.map((r) => [r.name, r.target, r.sequenceId, r.segment])).toEqual([
      ["enroll-enterprise-nurture", "enroll", "enterprise-nurture", "enterprise"],
      ["enroll-smb-nurture", "enroll", "smb-nurture", "smb"],
      ["enroll-smb-webinar-followup", "enroll", "smb-webinar-followup", "smb"],
      ["enroll-student-drip", "enroll", "student-drip", "students"],
    ]);
  });

  it("gives the pattern the contract describes", () => {
    expect(rules[0]?.pattern).toEqual({
      source: ["leadloop"],
      "detail-type": ["lead.captured", "lead.recycled", "lead.updated"],
      detail: { segment: ["enterprise"] },
    });
  });

  it("matches a lead.captured event of its own segment and of no other segment", () => {
    for (const rule of rules) {
      for (const segment of segments) {
        expect(matchesPattern(rule.pattern, leadEvent("lead.captured", segment))).toBe(segment === rule.segment);
      }
    }
  });

  it("re-enrolls on lead.recycled and lead.updated, but ignores other lead events", () => {
    const [rule] = rules;
    if (!rule) throw new Error("no rule");
    const matched = LeadloopEventType.options.filter((type) => matchesPattern(rule.pattern, leadEvent(type)));
    expect(matched.sort()).toEqual(["lead.captured", "lead.recycled", "lead.updated"]);
  });

  it("ignores an event of the right shape from another source", () => {
    const forged = envelope("lead.captured", { segment: "enterprise" }, "someone.else");
    expect(rules.some((rule) => matchesPattern(rule.pattern, forged))).toBe(false);
  });

  it("keeps names CloudFormation-safe and unique, even for very long sequence ids", () => {
    const long = "a".repeat(60);
    const named = routingRules({
      sequences: [sequence(`${long}-one`, "smb"), sequence(`${long}-two`, "smb"), sequence("x", "smb")],
    }).map((r) => r.name);
    for (const name of named) {
      expect(name).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    }
    expect(new Set(named).size).toBe(3);
    expect(named[2]).toBe("enroll-x");
    // Stable: the same config yields the same names on the next deploy.
    expect(routingRules({ sequences: [sequence(`${long}-one`, "smb")] })[0]?.name).toBe(named[0]);
  });

  it("refuses two sequences with the same id rather than emitting two rules with one name", () => {
    expect(() => routingRules({ sequences: [sequence("dup", "smb"), sequence("dup", "enterprise")] })).toThrow(
      DuplicateRuleNameError,
    );
  });

  it("makes no rules for a config without sequences", () => {
    expect(routingRules({ sequences: [] })).toEqual([]);
  });
});

describe("handlerRules and allRules", () => {
  it("every generated pattern is valid", () => {
    for (const rule of allRules(config)) expect(() => validatePattern(rule.pattern)).not.toThrow();
  });

  it("names are unique across all rules", () => {
    const names = allRules(config).map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("engagement");
  });

  it("lists the enroll rules first, then the handler rules", () => {
    expect(allRules(config).map((r) => r.target)).toEqual([
      "enroll",
      "enroll",
      "enroll",
      "enroll",
      "engagement",
      "engagement",
      "handoff",
      "follow-up",
      "follow-up",
      "feedback",
      "exit",
      "report",
      "webhooks",
    ]);
    expect(handlerRules().map((r) => r.name)).toEqual(["engagement", "score", "handoff", "follow-up", "follow-up-confirmed", "feedback", "exit", "report", "webhooks"]);
  });

  it("routes each contract event to the handlers that need it", () => {
    expect(targetsFor(leadEvent("lead.captured", "smb"))).toEqual(["enroll:smb-nurture", "enroll:smb-webinar-followup", "engagement", "follow-up", "report"]);
    expect(targetsFor(leadEvent("lead.qualified"))).toEqual(["handoff", "exit", "report", "webhooks"]);
    expect(targetsFor(leadEvent("lead.closed"))).toEqual(["feedback", "exit", "report", "webhooks"]);
    expect(targetsFor(leadEvent("lead.unsubscribed"))).toEqual(["exit", "report"]);
    // The report counts a score only when site activity moved it: a rescore alone invokes nobody.
    expect(targetsFor(leadEvent("lead.scored"))).toEqual([]);
    expect(targetsFor(envelope("lead.scored", { leadId: "lead-1", segment: "enterprise", activity: { type: "page.viewed" } }))).toEqual(["report"]);
    expect(targetsFor(envelope("lead.scored", { leadId: "lead-1", segment: "enterprise", activity: "page.viewed" }))).toEqual(["report"]);
    expect(targetsFor(leadEvent("email.sent"))).toEqual(["report"]);
  });

  it("sends SES events to engagement and the report", () => {
    const ses = envelope("Email Opened", { eventType: "Open", mail: { messageId: "m-1" } }, "aws.ses");
    expect(targetsFor(ses)).toEqual(["engagement", "report"]);
  });

  it("sends nothing from other sources to the report, nor the events it does not count", () => {
    expect(targetsFor(envelope("EC2 Instance State-change Notification", {}, "aws.ec2"))).toEqual([]);
    expect(targetsFor(envelope("Email Delivered", { eventType: "Delivery", mail: { messageId: "m-1" } }, "aws.ses"))).toEqual(["engagement"]);
    expect(targetsFor(leadEvent("lead.updated"))).not.toContain("report");
  });
});

describe("EventEnvelope", () => {
  it("accepts an EventBridge-shaped event and rejects one without detail-type", () => {
    expect(EventEnvelopeSchema.safeParse(leadEvent("lead.captured")).success).toBe(true);
    const { "detail-type": _omitted, ...partial } = leadEvent("lead.captured");
    expect(EventEnvelopeSchema.safeParse(partial).success).toBe(false);
  });

  it("lists the ten contract events", () => {
    expect(LeadloopEventType.options).toHaveLength(10);
    expect(() => LeadloopEventType.parse("lead.deleted")).toThrow();
  });
});
