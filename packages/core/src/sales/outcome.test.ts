import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors";
import { validateQuality } from "../feedback/lead-quality";
import { validateOutcome } from "./outcome";
import type { SalesDeps } from "./sales-deps";

const reasons = (...codes: string[]) => codes.map((code) => ({ code, label: code }));
const config = {
  teams: {
    teams: [],
    wonReasons: reasons("roi-case", "champion"),
    lostReasons: reasons("price", "competitor"),
    disqualifiedReasons: reasons("student"),
    qualityReasons: reasons("too-small", "wrong-person"),
  },
} as unknown as SalesDeps["config"];
const now = new Date("2026-06-01T12:00:00Z");

/** The problems a body earns, field by field ([] when it is accepted). */
function outcomeIssues(body: unknown) {
  try {
    validateOutcome({ config }, body, now);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.issues;
  }
}

describe("validateOutcome", () => {
  it("accepts each outcome's body, a form's numeric text for the amount and any case of currency", () => {
    expect(validateOutcome({ config }, { outcome: "won", amount: " 12000 ", currency: "eur", reason: "champion", recycleOn: "" }, now)).toEqual({
      outcome: "won",
      amount: 12000,
      currency: "EUR",
      reason: "champion",
    });
    expect(validateOutcome({ config }, { outcome: "lost", reason: "price", amount: "n/a", notes: "Demo landed" }, now)).toEqual({
      outcome: "lost",
      reason: "price",
      notes: { wentWell: "Demo landed" },
    });
    expect(validateOutcome({ config }, { outcome: "not-now", recycleOn: "2026-09-01", reason: "timing", notes: { toImprove: "  " } }, now)).toEqual({
      outcome: "not-now",
      recycleOn: "2026-09-01",
      reason: "timing",
    });
    expect(validateOutcome({ config }, { outcome: "disqualified", reason: "student", notes: null }, now)).toEqual({ outcome: "disqualified", reason: "student" });
  });

  it("names the outcome alone when it is not one of the four", () => {
    expect(outcomeIssues({ outcome: "maybe", amount: -1 })).toEqual([{ field: "outcome", message: "must be one of won, lost, disqualified, not-now" }]);
    expect(outcomeIssues("won")).toEqual([{ field: "outcome", message: "must be one of won, lost, disqualified, not-now" }]);
  });

  it("names every field the schema refuses, with what to write instead", () => {
    expect(outcomeIssues({ outcome: "won", amount: "12,000", currency: "EURO", notes: { wentWell: "x".repeat(2001), mood: "great" } })).toEqual([
      { field: "amount", message: "a won deal needs its amount, a number greater than 0 (e.g. 12000)" },
      { field: "currency", message: "must be a three-letter ISO 4217 code such as USD or EUR" },
      { field: "notes", message: 'must be {"wentWell": "…", "toImprove": "…"} (each plain text of at most 2000 characters) or one such text' },
    ]);
    expect(outcomeIssues({ outcome: "won", amount: 0 }).map((i) => i.field)).toEqual(["amount"]);
    expect(outcomeIssues({ outcome: "won", amount: 1e125 })).toEqual([{ field: "amount", message: expect.stringContaining("at most 1,000,000,000,000") }]);
    expect(outcomeIssues({ outcome: "won", amount: "1e13" })).toEqual([{ field: "amount", message: expect.stringContaining("at most 1,000,000,000,000") }]);
    expect(outcomeIssues({ outcome: "not-now", recycleOn: "next spring" })).toEqual([
      { field: "recycleOn", message: "not now needs the date to come back to the lead, e.g. 2026-01-15" },
    ]);
    expect(outcomeIssues({ outcome: "not-now", recycleOn: "2026-02-30" }).map((i) => i.field)).toEqual(["recycleOn"]);
  });

  it("tells a reason's problem with the codes config/teams.yaml lists, beside the other fields' problems", () => {
    expect(outcomeIssues({ outcome: "lost" })).toEqual([
      { field: "reason", message: "a lost lead needs a reason, one of price, competitor (config/teams.yaml lostReasons)" },
    ]);
    expect(outcomeIssues({ outcome: "disqualified", reason: 7 })).toEqual([
      { field: "reason", message: "a disqualified lead needs a reason, one of student (config/teams.yaml disqualifiedReasons)" },
    ]);
    expect(outcomeIssues({ outcome: "lost", reason: "too-pricey", notes: 5 })).toEqual([
      { field: "notes", message: expect.stringContaining("wentWell") },
      { field: "reason", message: '"too-pricey" is not a reason code; a lost lead needs a reason, one of price, competitor (config/teams.yaml lostReasons)' },
    ]);
    expect(outcomeIssues({ outcome: "won", amount: 5, reason: "luck" })).toEqual([
      { field: "reason", message: `"luck" is not a reason code; a won deal's reason must be one of roi-case, champion (config/teams.yaml wonReasons)` },
    ]);
  });

  it("wants a recycle date after today", () => {
    expect(outcomeIssues({ outcome: "not-now", recycleOn: "2026-06-01" })).toEqual([{ field: "recycleOn", message: "must lie in the future (after 2026-06-01)" }]);
    expect(outcomeIssues({ outcome: "not-now", recycleOn: "2026-06-01T13:00:00Z" })).toEqual([]);
  });
});

describe("validateQuality", () => {
  const issues = (body: unknown) => {
    try {
      validateQuality(config, body);
      return [];
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return error.issues;
    }
  };
  it("takes a verdict and, for a bad one, a reason code of teams.yaml", () => {
    expect(validateQuality(config, { verdict: "good-fit", reason: "" })).toEqual({ verdict: "good-fit" });
    expect(validateQuality(config, { verdict: "bad-fit", reason: "too-small" })).toEqual({ verdict: "bad-fit", reason: "too-small" });
    expect(issues({ verdict: "great" })).toEqual([{ field: "verdict", message: "must be one of good-fit, bad-fit, wrong-contact" }]);
    expect(issues({ verdict: "bad-fit", reason: ["too-small"] })).toEqual([{ field: "reason", message: "must be a reason code (text)" }]);
    expect(issues({ verdict: "wrong-contact" })).toEqual([
      { field: "reason", message: "a wrong-contact verdict needs a reason, one of too-small, wrong-person (config/teams.yaml qualityReasons)" },
    ]);
    expect(issues({ verdict: "great", reason: "meh" })).toEqual([
      { field: "verdict", message: "must be one of good-fit, bad-fit, wrong-contact" },
      { field: "reason", message: `"meh" is not a reason code; use one of too-small, wrong-person` },
    ]);
  });
});
