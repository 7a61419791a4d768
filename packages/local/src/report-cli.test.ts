import { summariseFunnel } from "@leadloop/core";
import { describe, expect, it } from "vitest";
import { formatFunnelReport, table } from "./report-cli";

describe("npm run report tables", () => {
  it("aligns columns", () => {
    expect(table(["Name", "N"], [["a", "1"], ["long name", "100"]]).split("\n")).toEqual(["Name         N", "─────────  ───", "a            1", "long name  100"]);
  });

  it("prints stages, conversions, medians, reasons, breakdowns and email steps", () => {
    const dims = { segment: "enterprise", source: "google", formId: "demo" };
    const report = summariseFunnel(
      [
        { kind: "funnel", day: "2026-01-02", dims, counters: { captured: 10, engaged: 5, mql: 4, claimed: 2, won: 1, lost: 1, "lost:price": 1, "revenue:EUR": 5000, "h:capturedToMql:5": 4 } },
        { kind: "email", day: "2026-01-02", dims, sequenceId: "enterprise-nurture", stepId: "welcome", counters: { sent: 10, opened: 4, wonTouches: 1 } },
      ],
      { from: "2026-01-01", to: "2026-01-07" },
    );
    const text = formatFunnelReport(report);
    expect(text).toContain("Funnel 2026-01-01 to 2026-01-07 (7 days)");
    expect(text).toMatch(/engaged\s+5\s+50\.0%/);
    expect(text).toMatch(/captured → MQL\s+\d+\.\d h\s+4/);
    expect(text).toMatch(/price\s+1/);
    expect(text).toContain("5,000 EUR");
    expect(text).toMatch(/enterprise-nurture · welcome\s+10\s+4\s+0\s+0\s+0\s+40\.0%\s+0\.0%\s+1/);
  });
});
