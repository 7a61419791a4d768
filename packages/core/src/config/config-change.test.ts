import { describe, expect, it } from "vitest";
import { describeConfigChange } from "./config-change";
import { loadConfigOrThrow } from "./load";

const shipped = () => loadConfigOrThrow("config");

describe("describeConfigChange", () => {
  it("says nothing when nothing that matters changed", () => {
    expect(describeConfigChange(shipped(), shipped())).toEqual([]);
  });

  it("names the sequence and step whose subject changed, and the template whose copy changed", () => {
    const before = shipped();
    const after = shipped();
    const smb = after.sequences.find((s) => s.id === "smb-nurture")!;
    smb.steps[0]!.subject = "Hello from the new copy";
    after.templates["smb-welcome"]!.text += "\nP.S. new line";
    expect(describeConfigChange(before, after)).toEqual(["sequence smb-nurture changed: step welcome", "template smb-welcome changed"]);
  });

  it("lists added and removed things and whole-file sections", () => {
    const before = shipped();
    const after = shipped();
    after.sequences = after.sequences.filter((s) => s.id !== "recycle-nurture");
    after.scoring = { ...after.scoring, threshold: after.scoring.threshold + 1 };
    delete after.forms.newsletter;
    const lines = describeConfigChange(before, after);
    expect(lines).toContain("form newsletter removed");
    expect(lines).toContain("scoring changed");
    expect(lines.some((l) => /^sequence \S+ removed$/.test(l))).toBe(true);
  });
});
