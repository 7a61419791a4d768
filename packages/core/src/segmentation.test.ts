import { describe, expect, it } from "vitest";
import { assignSegment, explainSegment, type SegmentRules } from "./segmentation";

const rules: SegmentRules = {
  segments: [
    { id: "customer", when: { field: "stage", equals: "won" } },
    {
      id: "enterprise",
      when: { any: [{ field: "companySize", gte: 1000 }, { field: "title", contains: ["vp", "chief", "head of"] }] },
    },
    { id: "self-serve", when: { field: "email", emailDomain: "free" } },
    { id: "smb", when: { field: "companySize", lt: 1000 } },
  ],
  default: "smb",
  freeMailDomains: ["startup-mail.io"],
};

describe("assignSegment", () => {
  it("takes the first matching rule in file order", () => {
    expect(assignSegment({ stage: "won", companySize: 5000 }, rules)).toBe("customer");
    expect(assignSegment({ email: "a@gmail.com", title: "Head of Sales" }, rules)).toBe("enterprise");
    expect(assignSegment({ email: "a@gmail.com", companySize: 20 }, rules)).toBe("self-serve");
    expect(assignSegment({ email: "a@acme.com", companySize: "20" }, rules)).toBe("smb");
  });

  it("uses the segments file's extra free-mail domains", () => {
    expect(assignSegment({ email: "a@startup-mail.io", companySize: 20 }, rules)).toBe("self-serve");
  });

  it("falls back to the form's hint, then the default", () => {
    expect(explainSegment({ email: "a@acme.com" }, rules, "enterprise")).toEqual({
      segment: "enterprise",
      ruleIndex: "hint",
    });
    expect(explainSegment({ email: "a@acme.com" }, rules)).toEqual({ segment: "smb", ruleIndex: "default" });
  });

  it("says which rule decided", () => {
    expect(explainSegment({ email: "a@gmail.com", companySize: 20 }, rules, "enterprise")).toEqual({
      segment: "self-serve",
      ruleIndex: 2,
    });
  });
});
