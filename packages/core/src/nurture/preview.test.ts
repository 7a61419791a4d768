import { describe, expect, it } from "vitest";
import { loadConfigOrThrow } from "../config/load";
import type { LeadloopConfig } from "../config/schema";
import { ValidationError } from "../errors";
import { TokenSigner } from "../tokens";
import { NurtureSettings } from "./nurture-settings";
import { listPreviewItems, PREVIEW_LEAD_ID, previewEmail, sampleLead } from "./preview";

const config = loadConfigOrThrow("config");
const deps = {
  config,
  settings: NurtureSettings.parse({ publicUrl: "https://api.acme.example", from: "Acme <hello@acme.example>" }),
  signer: new TokenSigner("a-test-signing-key-of-some-length"),
};
const now = new Date("2026-12-01T10:00:00Z");

describe("listPreviewItems", () => {
  it("lists follow-ups and broadcasts whenever the config carries them", () => {
    const withMore = {
      ...config,
      forms: { ...config.forms, "demo-request": { ...config.forms["demo-request"]!, followUp: { template: "enterprise-welcome", subject: "What happens next" } } },
      broadcasts: [{ id: "newsletter-december", name: "December newsletter", template: "smb-pricing", subject: "December at Acme" }],
    } as unknown as LeadloopConfig;
    const extra = listPreviewItems(withMore).filter((i) => i.kind !== "step");
    expect(extra.map((i) => [i.id, i.label])).toEqual([
      ["follow-up:demo-request", "Book a demo · follow-up"],
      ["broadcast:newsletter-december", "Broadcast · December newsletter"],
    ]);
    expect(previewEmail({ ...deps, config: withMore }, "follow-up:demo-request", sampleLead(config), now).email.subject).toBe("What happens next");
  });
});

describe("sampleLead", () => {
  it("fills every visible field of the form and files the lead into its segment", () => {
    const lead = sampleLead(config, "whitepaper");
    expect(Object.keys(lead.profile).sort()).toEqual(["company", "firstName", "title"]);
    expect(lead.segment).toBe("enterprise");
    expect(lead.id).toBe(PREVIEW_LEAD_ID);
  });

  it("names the form field when the form does not exist", () => {
    expect(() => sampleLead(config, "nope")).toThrow(ValidationError);
  });
});

describe("previewEmail", () => {
  it("signs the unsubscribe link for no lead, even when rendered for a real one", () => {
    const real = { id: "lead-123", email: "ada@engines.example", profile: { firstName: "Ada" }, segment: "smb", stage: "lead" as const };
    const { email } = previewEmail(deps, "step:smb-nurture/welcome", real, now);
    expect(email.to).toBe("ada@engines.example");
    expect(email.subject).toBe("Welcome to Acme Analytics, Ada");
    const token = new URL(email.unsubscribeUrl).searchParams.get("token")!;
    expect(deps.signer.verify(token, "unsubscribe", now).sub).toBe(PREVIEW_LEAD_ID);
  });
});
