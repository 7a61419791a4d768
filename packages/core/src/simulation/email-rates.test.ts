import { describe, expect, it } from "vitest";
import { EmailRatesFile, emailRateFor } from "./email-rates";

const global = { openRate: 0.35, clickRate: 0.05 };

describe("emailRateFor", () => {
  it("takes the step's own rates over its template's, and the global ones otherwise", () => {
    const rates = EmailRatesFile.parse({
      templates: { "smb-pricing": { open: 0.5, click: 0.1 } },
      steps: { "smb-nurture/pricing": { open: 0.6, click: 0.2 } },
    });
    expect(emailRateFor(rates, { sequenceId: "smb-nurture", stepId: "pricing", template: "smb-pricing" }, global)).toEqual({ openRate: 0.6, clickRate: 0.2 });
    expect(emailRateFor(rates, { sequenceId: "other", stepId: "pricing", template: "smb-pricing" }, global)).toEqual({ openRate: 0.5, clickRate: 0.1 });
    expect(emailRateFor(rates, { sequenceId: "other", stepId: "x", template: "y" }, global)).toEqual(global);
  });

  it("refuses a click rate above the open rate and a step key without its sequence", () => {
    const result = EmailRatesFile.safeParse({ templates: { a: { open: 0.1, click: 0.2 } }, steps: { pricing: { open: 0.5, click: 0.1 } } });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["templates.a.click", "steps.pricing"]));
  });
});
