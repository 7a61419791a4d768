/**
 * One cost figure, one place: `npm run bench:cost` writes docs/cost.json, and every document that
 * gives a cost per 1,000 leads quotes that file (infra/README.md carries its generated breakdown).
 */
import { readFileSync } from "node:fs";
import {
  formatMeasuredCost,
  formatMeasuredCostWithSes,
  MEASURED_COST_FILE,
  MeasuredCost,
  renderCostSection,
  replaceCostSection,
} from "@leadloop/core/simulation/measured-cost";
import { describe, expect, it } from "vitest";

const cost = MeasuredCost.parse(JSON.parse(readFileSync(MEASURED_COST_FILE, "utf8")));
const FIGURE = /\$\d+\.\d+ per 1,000 leads without SES/g;

describe(`the cost per 1,000 leads (${MEASURED_COST_FILE})`, () => {
  it("is what the bench's lines add up to", () => {
    const withoutSes = cost.lines.filter((l) => l.service !== "SES").reduce((sum, l) => sum + l.usd, 0);
    const all = cost.lines.reduce((sum, l) => sum + l.usd, 0);
    expect(cost.usdPer1000LeadsWithoutSes).toBeCloseTo(withoutSes, 2);
    expect(cost.usdPer1000LeadsWithSes).toBeCloseTo(all, 2);
    expect(formatMeasuredCost(cost)).toMatch(/^\$\d+\.\d{3} per 1,000 leads without SES$/);
  });

  for (const document of ["README.md", "infra/README.md"]) {
    it(`is the only such figure ${document} gives, with and without SES`, () => {
      const text = readFileSync(document, "utf8");
      const figures = [...text.matchAll(FIGURE)].map((m) => m[0]);
      expect(figures.length, `${document} quotes the figure`).toBeGreaterThan(0);
      expect(new Set(figures), `${document}: run npm run bench:cost, or quote ${MEASURED_COST_FILE}`).toEqual(new Set([formatMeasuredCost(cost)]));
      expect(text).toContain(formatMeasuredCostWithSes(cost));
    });
  }

  it("is broken down in infra/README.md exactly as the bench generated it", () => {
    const text = readFileSync("infra/README.md", "utf8");
    expect(replaceCostSection(text, renderCostSection(cost))).toBe(text);
  });
});
