import { describe, expect, it } from "vitest";
import type { Form } from "../config/schema";
import { describeTotals, importTotals, mapColumns } from "./import";

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
    expect(totals).toEqual({ created: 2, merged: 1, skipped: 1, errors: 1 });
    expect(describeTotals(totals)).toBe("2 created, 1 merged, 1 skipped, 1 error");
  });
});
