import { describe, expect, it } from "vitest";
import { loadConfigOrThrow } from "../config/load";
import type { Lead } from "../lead";
import type { Activity } from "../ports";
import { computeLeadScore, currentScore, scoreDiffers, scoredActivities, scoredTypes, topReasons } from "./lead-scoring";

const config = loadConfigOrThrow("config");
const NOW = new Date("2026-03-10T12:00:00Z");

function lead(overrides: Partial<Lead> = {}): Lead {
  return {
    id: "lead-1",
    email: "grace@compilers.example",
    profile: { title: "VP Data", company: "Compilers Inc" },
    segment: "enterprise",
    stage: "lead",
    forms: ["whitepaper"],
    firstTouch: { formId: "whitepaper", at: "2026-03-01T10:00:00Z" },
    lastTouch: { formId: "whitepaper", at: "2026-03-01T10:00:00Z" },
    consents: [],
    createdAt: "2026-03-01T10:00:00Z",
    updatedAt: "2026-03-01T10:00:00Z",
    published: true,
    ...overrides,
  };
}

let seq = 0;
function activity(type: string, at: string, data: Record<string, unknown> = {}): Activity {
  seq += 1;
  return { leadId: "lead-1", id: `${at}-${seq}`, type, at, data };
}

describe("computeLeadScore", () => {
  it("adds fit from the profile and email, engagement from the activities, against the segment's threshold", () => {
    const score = computeLeadScore(
      lead(),
      [activity("form.submitted", "2026-03-01T10:00:00.000Z", { formId: "whitepaper" }), activity("email.clicked", "2026-03-09T10:00:00.000Z", { url: "https://x.example/a" })],
      config,
      NOW,
    );
    expect(score).toMatchObject({ fit: 30, engagement: 15, total: 45, threshold: 50, scoredAt: NOW.toISOString() });
    expect(score.reasons.map((r) => r.rule)).toEqual(["senior-title", "company-domain", "whitepaper-downloaded", "email-clicked"]);
    expect(score.reasons.reduce((sum, r) => sum + r.points, 0)).toBe(score.total);
  });

  it("does not count a click on the unsubscribe link as interest", () => {
    const clicks = [activity("email.clicked", "2026-03-09T10:00:00.000Z", { url: "https://api.example/v1/unsubscribe?token=x", unsubscribeLink: true })];
    expect(computeLeadScore(lead(), clicks, config, NOW).engagement).toBe(0);
  });

  it("starts a recycled lead's engagement afresh after its last qualification, keeping its fit", () => {
    const activities = [
      activity("web.webinar_attended", "2026-02-01T10:00:00.000Z"),
      activity("email.clicked", "2026-03-09T10:00:00.000Z", { url: "https://x.example/a" }),
    ];
    const before = computeLeadScore(lead(), activities, config, NOW);
    const recycled = computeLeadScore(lead({ stage: "recycled", qualifiedAt: "2026-02-15T00:00:00.000Z" }), activities, config, NOW);
    expect(before.engagement).toBe(25);
    expect(recycled).toMatchObject({ fit: 30, engagement: 5, total: 35 });
  });

  it("halves the old engagement of a recycled lead when scoring says so", () => {
    const halve = { ...config, scoring: { ...config.scoring, recycle: { engagement: "halve" as const } } };
    const activities = [activity("web.webinar_attended", "2026-02-01T10:00:00.000Z"), activity("email.clicked", "2026-03-09T10:00:00.000Z")];
    const score = computeLeadScore(lead({ stage: "recycled", qualifiedAt: "2026-02-15T00:00:00.000Z" }), activities, halve, NOW);
    // The webinar's 20 points had idled 14 days at the recycle (no decay yet): halved to 10 there,
    // and the click a day before now adds 5 to what was kept.
    expect(score.engagement).toBe(10 + 5);
    expect(score.reasons).toContainEqual({ rule: "recycled", category: "engagement", points: -10 });
  });

  it("cuts at the recycle the timeline records, whatever stage the lead reached since", () => {
    const activities = [
      activity("form.submitted", "2026-02-01T10:00:00.000Z", { formId: "demo-request" }),
      activity("lead.recycled", "2026-03-01T00:00:00.000Z"),
      activity("email.clicked", "2026-03-09T10:00:00.000Z", { url: "https://x.example/a" }),
    ];
    // Back with sales after the recycle: the demo request from before it still does not count.
    const score = computeLeadScore(lead({ stage: "sales", qualifiedAt: "2026-03-09T10:00:00.000Z" }), activities, config, NOW);
    expect(score).toMatchObject({ fit: 30, engagement: 5 });
  });

  it("brings a stored score forward by decay at read, and never lets the stored figures of an idle lead show", () => {
    const activities = [activity("form.submitted", "2026-03-01T10:00:00.000Z", { formId: "demo-request" })];
    const stored = computeLeadScore(lead(), activities, config, NOW);
    expect(currentScore(stored, config, NOW)).toBe(stored);
    // 30 idle days, then one week: 40 × 0.9.
    const later = currentScore(stored, config, new Date("2026-04-08T11:00:00Z"));
    expect(later).toMatchObject({ engagement: 36, total: 66 });
    expect(later.reasons).toContainEqual({ rule: "decay", category: "engagement", points: -4, count: 1 });
  });
});

describe("qualification rules", () => {
  it("keeps the five reasons that moved the score most, without counts", () => {
    const reasons = [1, -8, 3, 20, -2, 5, 4].map((points, i) => ({ rule: `r${i}`, category: "engagement" as const, points, count: 1 }));
    expect(topReasons(reasons)).toEqual([
      { rule: "r3", category: "engagement", points: 20 },
      { rule: "r1", category: "engagement", points: -8 },
      { rule: "r5", category: "engagement", points: 5 },
      { rule: "r6", category: "engagement", points: 4 },
      { rule: "r2", category: "engagement", points: 3 },
    ]);
  });

  it("sees a score as unchanged when only its time moved", () => {
    const a = computeLeadScore(lead(), [], config, NOW);
    const b = computeLeadScore(lead(), [], config, new Date(NOW.getTime() + 1000));
    expect(scoreDiffers(a, b)).toBe(false);
    expect(scoreDiffers(undefined, a)).toBe(true);
    expect(scoreDiffers(a, { ...b, total: b.total + 1 })).toBe(true);
  });

  it("reads back only the activity types some rule scores, and skips unknown ones", () => {
    expect(scoredTypes(config)).toContain("email.clicked");
    expect(scoredTypes(config)).not.toContain("email.sent");
    expect(scoredActivities([activity("sequence.enrolled", "2026-03-01T10:00:00.000Z")])).toEqual([]);
  });
});
