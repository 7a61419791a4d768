import { describe, expect, it } from "vitest";
import { mergeSubmission } from "./lead-merge";

describe("mergeSubmission", () => {
  const known = { firstName: "Ada", title: "Analyst", companySize: 10 };

  it("lets an unproven submission fill blanks only, and says what it offered instead", () => {
    const merged = mergeSubmission(known, { firstName: "Mallory", title: "CEO", phone: "+1 555", companySize: 10 }, "unproven");
    expect(merged.profile).toEqual({ ...known, phone: "+1 555" });
    expect(merged.changed).toEqual({ phone: { to: "+1 555" } });
    expect(merged.kept).toEqual({ firstName: { kept: "Ada", offered: "Mallory" }, title: { kept: "Analyst", offered: "CEO" } });
  });

  it("lets the lead itself correct what it said, but a blank never erases", () => {
    const merged = mergeSubmission(known, { title: "CTO", firstName: "" }, "owner");
    expect(merged.profile).toEqual({ ...known, title: "CTO" });
    expect(merged.changed).toEqual({ title: { from: "Analyst", to: "CTO" } });
    expect(merged.kept).toEqual({});
  });
});
