import { describe, expect, it } from "vitest";
import { loadConfigOrThrow } from "../config/load";
import { describeCondition, describeJourneys } from "./journey";

const config = loadConfigOrThrow("config");

describe("describeCondition", () => {
  it("reads a segment rule as a sentence, grouping nested any/all", () => {
    expect(
      describeCondition({ any: [{ all: [{ field: "email", emailDomain: "company" }, { field: "companySize", lt: 1000 }] }, { field: "company", exists: true }] }),
    ).toBe("(email is a company address and companySize < 1000) or company is filled in");
    expect(describeCondition({ not: { field: "country", in: ["US", "CA"] } })).toBe('not country is one of "US", "CA"');
  });
});

describe("describeJourneys", () => {
  it("puts each step's count on the step and keeps counts of steps no longer in the config apart", async () => {
    const journeys = await describeJourneys({
      config,
      journeys: {
        countWaitingByStep: async () => [
          { sequenceId: "smb-nurture", stepId: "welcome", leads: 4 },
          { sequenceId: "smb-nurture", stepId: "pricing", leads: 1 },
          { sequenceId: "smb-nurture", stepId: "renamed-step", leads: 2 },
        ],
      },
    });
    const smb = journeys.find((j) => j.id === "smb-nurture")!;
    expect(smb.steps.map((s) => s.waiting)).toEqual([4, 0, 0, 1]);
    expect(smb.total).toBe(7);
    expect(smb.waitingElsewhere).toBe(2);
    expect(smb.entry.position).toBe(4);
    expect(journeys.find((j) => j.id === "self-serve-nurture")!.entry.isDefault).toBe(true);
  });
});
