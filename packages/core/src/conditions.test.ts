import { describe, expect, it } from "vitest";
import { evaluateCondition } from "./conditions";
import type { Condition } from "./config/schema";

const ctx = { freeMailDomains: ["corp-free.example"] };
const lead = {
  email: "ann@acme.com",
  title: "VP of Marketing",
  companySize: "500",
  employees: 42,
  country: "DE",
  interests: ["Pricing", "API"],
  newsletter: true,
  phone: "  ",
};
const holds = (cond: Condition, profile: Record<string, unknown> = lead) => evaluateCondition(cond, profile, ctx);

describe("evaluateCondition", () => {
  it("compares text case-insensitively with equals and in", () => {
    expect(holds({ field: "country", equals: "de" })).toBe(true);
    expect(holds({ field: "country", equals: "US" })).toBe(false);
    expect(holds({ field: "country", in: ["us", "de", "fr"] })).toBe(true);
    expect(holds({ field: "country", in: ["us", "fr"] })).toBe(false);
  });

  it("compares numbers with numeric strings", () => {
    expect(holds({ field: "companySize", equals: 500 })).toBe(true);
    expect(holds({ field: "companySize", gte: 500 })).toBe(true);
    expect(holds({ field: "companySize", gt: 500 })).toBe(false);
    expect(holds({ field: "companySize", lt: 1000, gt: 100 })).toBe(true);
    expect(holds({ field: "employees", lte: 42 })).toBe(true);
    expect(holds({ field: "employees", lt: 42 })).toBe(false);
    expect(holds({ field: "title", gt: 0 })).toBe(false);
    expect(holds({ field: "employees", in: [10, 42] })).toBe(true);
  });

  it("finds text with contains, any of a list, ignoring case", () => {
    expect(holds({ field: "title", contains: "vp" })).toBe(true);
    expect(holds({ field: "title", contains: ["chief", "director"] })).toBe(false);
    expect(holds({ field: "title", contains: ["chief", "MARKETING"] })).toBe(true);
  });

  it("treats a list value as each of its entries", () => {
    expect(holds({ field: "interests", contains: "pric" })).toBe(true);
    expect(holds({ field: "interests", equals: "api" })).toBe(true);
    expect(holds({ field: "interests", equals: "sdk" })).toBe(false);
  });

  it("fails every operator on a missing value except exists: false", () => {
    for (const field of ["missing", "phone"]) {
      expect(holds({ field, exists: false })).toBe(true);
      expect(holds({ field, exists: true })).toBe(false);
      expect(holds({ field, equals: "" })).toBe(false);
      expect(holds({ field, contains: "a" })).toBe(false);
      expect(holds({ field, lt: 10 })).toBe(false);
      expect(holds({ field, emailDomain: "company" })).toBe(false);
      expect(holds({ field, exists: false, equals: "x" })).toBe(false);
      expect(holds({ not: { field, equals: "x" } })).toBe(true);
    }
    expect(holds({ field: "newsletter", exists: true })).toBe(true);
    expect(holds({ field: "empty", exists: true }, { empty: [] })).toBe(false);
  });

  it("ANDs several operators in one leaf", () => {
    expect(holds({ field: "title", contains: "vp", equals: "vp of marketing" })).toBe(true);
    expect(holds({ field: "title", contains: "vp", equals: "vp" })).toBe(false);
    expect(holds({ field: "title", exists: false, contains: "vp" })).toBe(false);
  });

  it("tells free-mail from company addresses, with the marketer's extra domains", () => {
    expect(holds({ field: "email", emailDomain: "company" })).toBe(true);
    expect(holds({ field: "email", emailDomain: "free" })).toBe(false);
    expect(holds({ field: "email", emailDomain: "free" }, { email: "ann@GMAIL.com" })).toBe(true);
    expect(holds({ field: "email", emailDomain: "free" }, { email: "ann@corp-free.example" })).toBe(true);
    expect(holds({ field: "email", emailDomain: "company" }, { email: "not an email" })).toBe(false);
    expect(holds({ field: "email", emailDomain: "free" }, { email: "not an email" })).toBe(false);
  });

  it("compares booleans with their text form", () => {
    expect(holds({ field: "newsletter", equals: true })).toBe(true);
    expect(holds({ field: "consent", equals: true }, { consent: "TRUE" })).toBe(true);
    expect(holds({ field: "consent", equals: false }, { consent: "true" })).toBe(false);
  });

  it("combines with all, any and not", () => {
    const enterprise: Condition = {
      any: [
        { field: "companySize", gte: 1000 },
        { all: [{ field: "title", contains: ["vp", "chief"] }, { not: { field: "email", emailDomain: "free" } }] },
      ],
    };
    expect(holds(enterprise)).toBe(true);
    expect(holds(enterprise, { ...lead, email: "ann@gmail.com" })).toBe(false);
    expect(holds(enterprise, { ...lead, email: "ann@gmail.com", companySize: 5000 })).toBe(true);
    expect(holds({ not: enterprise })).toBe(false);
  });
});
