import { describe, expect, it } from "vitest";
import type { Form } from "../config/schema";
import { describeTotals, importRowKey, importTotals, mapColumns } from "./import";

const form: Form = {
  name: "Book a demo",
  fields: {
    email: { type: "email", required: true },
    firstName: { type: "text", required: true },
    companySize: { type: "number", required: true },
    phone: { type: "tel", required: false },
  },
  consent: { text: "You may contact me.", required: true },
  honeypot: "website",
  allowedOrigins: [],
  thankYouUrl: "https://example.com/thanks",
  doubleOptIn: false,
};

describe("mapColumns", () => {
  it("matches headers to fields ignoring case, spaces, underscores and hyphens", () => {
    const mapping = mapColumns(form, ["E-Mail", "First Name", "COMPANY_SIZE", "Consent", "UTM Campaign"]);
    expect(mapping.fieldOf).toEqual(["email", "firstName", "companySize", "consent", "utm_campaign"]);
    expect(mapping.unknown).toEqual([]);
    expect(mapping.missing).toEqual([]);
  });

  it("reports unknown and repeated columns, and never maps the honeypot", () => {
    const mapping = mapColumns(form, ["email", "Favourite colour", "website", "EMAIL", "firstName", "companySize", "consent"]);
    expect(mapping.fieldOf).toEqual(["email", undefined, undefined, undefined, "firstName", "companySize", "consent"]);
    expect(mapping.unknown).toEqual(["Favourite colour", "website"]);
    expect(mapping.duplicate).toEqual(["EMAIL"]);
  });

  it("names required fields and required consent the file has no column for", () => {
    expect(mapColumns(form, ["email", "phone"]).missing).toEqual(["firstName", "companySize", "consent"]);
    const optional = { ...form, consent: { text: "ok", required: false } };
    expect(mapColumns(optional, ["email", "firstName", "companySize"]).missing).toEqual([]);
  });
});

describe("import totals", () => {
  it("counts each outcome and reads as the report line", () => {
    const totals = importTotals([
      { row: 2, outcome: "created", leadId: "a" },
      { row: 3, outcome: "merged", leadId: "a" },
      { row: 4, outcome: "skipped", leadId: "b", reason: "suppressed" },
      { row: 5, outcome: "error", problems: [{ column: "email", message: "is required" }] },
      { row: 6, outcome: "created", leadId: "c" },
    ]);
    expect(totals).toEqual({ created: 2, merged: 1, unchanged: 0, skipped: 1, errors: 1 });
    expect(describeTotals(totals)).toBe("2 created, 1 merged, 0 unchanged, 1 skipped, 1 error");
  });
});

describe("importRowKey", () => {
  it("is the same for the same content however the file spells or orders it", () => {
    const a = importRowKey("demo", { email: "Ada@Engines.example ", firstName: "Ada", phone: "" });
    expect(importRowKey("demo", { firstName: " Ada", email: "ada@engines.example" })).toBe(a);
    expect(importRowKey("demo", { email: "ada@engines.example", firstName: "Augusta" })).not.toBe(a);
    expect(importRowKey("webinar", { email: "ada@engines.example", firstName: "Ada" })).not.toBe(a);
  });

  it("follows the row's own key when it has one, and never holds it in clear", () => {
    const k = importRowKey("demo", { email: "ada@engines.example", title: "Analyst" }, "ada@engines.example");
    expect(importRowKey("demo", { email: "ada@engines.example", title: "CTO" }, " ada@engines.example")).toBe(k);
    expect(k).toMatch(/^import:[0-9a-f]{64}$/);
  });
});
