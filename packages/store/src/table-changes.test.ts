import { marshall } from "@aws-sdk/util-dynamodb";
import { reportEventsOfChange } from "@leadloop/core";
import { describe, expect, it } from "vitest";
import { storedScore } from "./stored-score";
import { tableChangeOf } from "./table-changes";

const leadId = "lead-1";
const leadItem = (extra: Record<string, unknown>) => ({ pk: `LEAD#${leadId}`, sk: "LEAD", id: leadId, stage: "lead", segment: "smb", ...extra });
const record = (eventName: string, newItem: Record<string, unknown>, oldItem: Record<string, unknown>) => ({
  eventID: "1",
  eventName,
  dynamodb: { SequenceNumber: "100", NewImage: marshall(newItem, { removeUndefinedValues: true }), OldImage: marshall(oldItem, { removeUndefinedValues: true }) },
});

describe("the table's changes as the report reads them", () => {
  it("a qualification stored with the lead's compact score reasons still names the rules that qualified it", () => {
    const score = storedScore({
      total: 80,
      fit: 30,
      engagement: 50,
      threshold: 60,
      reasons: [
        { rule: "title", category: "fit", points: 30 },
        { rule: "demo", category: "engagement", points: 50, count: 1 },
      ],
    } as never);
    expect(typeof score.reasons).toBe("string");
    const change = tableChangeOf(record("MODIFY", leadItem({ stage: "mql", qualifiedAt: "2026-01-06T00:00:00.000Z", score }), leadItem({})));
    expect(reportEventsOfChange(change)).toEqual([
      { type: "qualified", leadId, at: "2026-01-06T00:00:00.000Z", rules: ["demo", "title"], score: 80, threshold: 60 },
    ]);
  });
});
