import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bucketLowerHours, bucketOf, bucketUpperHours, emptyHistogram, HISTOGRAM_BUCKETS, medianHours } from "./stage-histogram";

function histogramOf(hours: number[]) {
  const h = emptyHistogram();
  for (const value of hours) h[bucketOf(value)] = (h[bucketOf(value)] ?? 0) + 1;
  return h;
}

describe("bucketOf", () => {
  it("puts durations in log-spaced hour buckets", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.5)).toBe(0);
    expect(bucketOf(1)).toBe(1);
    expect(bucketOf(1.9)).toBe(1);
    expect(bucketOf(2)).toBe(2);
    expect(bucketOf(24)).toBe(5); // [16, 32)
    expect(bucketOf(-3)).toBe(0);
    expect(bucketOf(1e9)).toBe(HISTOGRAM_BUCKETS - 1);
  });

  it("every duration lies within its bucket's edges", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), (hours) => {
        const b = bucketOf(hours);
        expect(hours).toBeGreaterThanOrEqual(bucketLowerHours(b));
        expect(hours).toBeLessThan(bucketUpperHours(b));
      }),
    );
  });
});

describe("medianHours", () => {
  it("is undefined with no observations", () => {
    expect(medianHours(emptyHistogram())).toBeUndefined();
  });

  it("interpolates inside the bucket holding the middle observation", () => {
    // Three leads took 3 h, 5 h and 6 h: all in [4, 8) except the first ([2, 4)).
    const median = medianHours(histogramOf([3, 5, 6]));
    expect(median).toBeGreaterThanOrEqual(4);
    expect(median).toBeLessThan(8);
    // Two in the first bucket, two in [16, 32): the middle falls at the end of the first bucket.
    expect(medianHours(histogramOf([0.2, 0.4, 20, 30]))).toBeCloseTo(1, 5);
  });

  it("the estimate always lies in the bucket of the true median (odd counts)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 5000, noNaN: true }), { minLength: 1, maxLength: 60 }).filter((a) => a.length % 2 === 1), (hours) => {
        const sorted = [...hours].sort((a, b) => a - b);
        const trueMedian = sorted[(sorted.length - 1) / 2] ?? 0;
        const estimate = medianHours(histogramOf(hours)) ?? -1;
        const b = bucketOf(trueMedian);
        expect(estimate).toBeGreaterThanOrEqual(bucketLowerHours(b));
        expect(estimate).toBeLessThanOrEqual(bucketUpperHours(b));
      }),
    );
  });
});
