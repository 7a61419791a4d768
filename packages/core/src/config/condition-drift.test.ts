import { describe, expect, it } from "vitest";
import { previousConditionShifts } from "./condition-drift";

const committed = `id: smb
steps:
  - id: welcome
    delay: P0D
  - id: pricing
    delay: P2D
  - id: case-study
    delay: P4D
    condition: { previous: clicked }
`;

describe("previousConditionShifts", () => {
  it("warns at the condition when an inserted step changes which email `previous` reads", () => {
    const current = committed.replace("  - id: case-study", "  - id: webinar\n    delay: P1D\n  - id: case-study");
    const [warning, ...rest] = previousConditionShifts({ file: "config/sequences/smb.yaml", current, committed });
    expect(rest).toEqual([]);
    expect(warning?.line).toBe(current.split("\n").findIndex((l) => l.includes("previous: clicked")) + 1);
    expect(warning?.message).toBe(
      "warning: step `case-study`'s condition `previous: clicked` now reads the email of step `webinar`, not of step `pricing` as in the last commit",
    );
  });

  it("is silent when the steps before a condition are unchanged, for a new file, and for a new step", () => {
    const edited = committed.replace("delay: P2D", "delay: P3D").concat("  - id: last\n    delay: P9D\n    condition: { previous: opened }\n");
    expect(previousConditionShifts({ file: "f", current: edited, committed })).toEqual([]);
    expect(previousConditionShifts({ file: "f", current: committed, committed: undefined })).toEqual([]);
  });
});
