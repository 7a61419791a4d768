import { describe, expect, it } from "vitest";
import { loadConfigOrThrow } from "../config/load";
import type { LeadloopConfig, Step } from "../config/schema";
import { TokenSigner } from "../tokens";
import { assignVariant, judgeAbTest, twoProportionPValue, type VariantFigures, variantFor } from "./ab-test";
import { NurtureSettings } from "./nurture-settings";
import { listPreviewItems, previewEmail, sampleLead } from "./preview";

const step: Pick<Step, "id" | "variants"> = {
  id: "welcome",
  variants: [
    { id: "a", weight: 3 },
    { id: "b", weight: 1, subject: "Shorter" },
  ],
};
const figures = (variantId: string, sent: number, clicked: number): VariantFigures => ({ variantId, sent, opened: 0, clicked, mqls: 0, wins: 0 });

describe("assignVariant", () => {
  it("gives a lead the same variant every time, and splits leads by the weights", () => {
    expect(assignVariant("lead-1", step)).toEqual(assignVariant("lead-1", step));
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i++) counts[assignVariant(`lead-${i}`, step)?.id as "a" | "b"]++;
    // 3:1 weights: about 3,000 and 1,000 (4 standard deviations is about ±110).
    expect(counts.a).toBeGreaterThan(2890);
    expect(counts.a).toBeLessThan(3110);
    // Another step splits the same leads independently.
    const other = { ...step, id: "pricing" };
    const same = Array.from({ length: 400 }, (_, i) => assignVariant(`lead-${i}`, step)?.id === assignVariant(`lead-${i}`, other)?.id).filter(Boolean).length;
    expect(same).toBeLessThan(300);
  });

  it("hands every lead the winner once the test has ended", () => {
    for (let i = 0; i < 50; i++) expect(variantFor(`lead-${i}`, step, { winner: "b" })?.id).toBe("b");
    expect(variantFor("lead-1", { id: "plain" }, undefined)).toBeUndefined();
  });
});

describe("twoProportionPValue", () => {
  it("matches the textbook two-proportion z-test", () => {
    // 120/1000 against 90/1000: pooled 0.105, z = 2.19, two-sided p = 0.0285.
    expect(twoProportionPValue(120, 1000, 90, 1000)).toBeCloseTo(0.0285, 3);
    expect(twoProportionPValue(50, 1000, 50, 1000)).toBeCloseTo(1, 6);
    expect(twoProportionPValue(0, 0, 5, 10)).toBe(1);
  });
});

describe("judgeAbTest", () => {
  const rule = { metric: "clicks" as const, minSends: 500, confidence: 0.95 };
  const now = new Date("2026-12-07T10:00:00Z");

  it("waits for every variant's minimum sends and for the confidence, then names the leader", () => {
    expect(judgeAbTest(step, rule, [figures("a", 1000, 90), figures("b", 400, 60)], { sequenceId: "smb", now })).toBeUndefined();
    expect(judgeAbTest(step, rule, [figures("a", 1000, 90), figures("b", 1000, 100)], { sequenceId: "smb", now })).toBeUndefined();
    const decision = judgeAbTest(step, rule, [figures("a", 1000, 90), figures("b", 1000, 120)], { sequenceId: "smb", now });
    expect(decision).toMatchObject({ sequenceId: "smb", stepId: "welcome", winner: "b", metric: "clicks", confidence: 0.95, decidedAt: now.toISOString() });
    expect(decision?.pValue).toBeCloseTo(0.0285, 3);
  });
});

describe("preview of an A/B tested step", () => {
  it("shows each variant with its own subject, as the sweeper composes it", () => {
    const config = loadConfigOrThrow("config");
    const tested = {
      ...config,
      sequences: config.sequences.map((s) =>
        s.id === "smb-nurture"
          ? { ...s, steps: s.steps.map((st) => (st.id === "welcome" ? { ...st, variants: [{ id: "a", weight: 1 }, { id: "b", weight: 1, subject: "Five minutes to your first dashboard", template: "smb-quick-start" }] } : st)) }
          : s,
      ),
    } as LeadloopConfig;
    const items = listPreviewItems(tested).filter((i) => i.id.startsWith("step:smb-nurture/welcome"));
    expect(items.map((i) => [i.id, i.label, i.template])).toEqual([
      ["step:smb-nurture/welcome", "SMB nurture · welcome", "smb-welcome"],
      ["step:smb-nurture/welcome@a", "SMB nurture · welcome · variant a", "smb-welcome"],
      ["step:smb-nurture/welcome@b", "SMB nurture · welcome · variant b", "smb-quick-start"],
    ]);
    const deps = {
      config: tested,
      settings: NurtureSettings.parse({ publicUrl: "https://api.acme.example", from: "Acme <hello@acme.example>" }),
      signer: new TokenSigner("a-test-signing-key-of-some-length"),
    };
    const lead = sampleLead(tested, "whitepaper");
    const b = previewEmail(deps, "step:smb-nurture/welcome@b", lead, new Date("2026-12-01T10:00:00Z")).email;
    expect(b.subject).toBe("Five minutes to your first dashboard");
    const a = previewEmail(deps, "step:smb-nurture/welcome@a", lead, new Date("2026-12-01T10:00:00Z")).email;
    expect(a.subject).toMatch(/^Welcome to Acme Analytics/);
    expect(a.html).not.toBe(b.html);
  });
});
