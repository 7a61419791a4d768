/**
 * Time spent in a funnel stage, kept as counts in log-spaced hour buckets so a median over any
 * period is a sum of small counters (no per-lead rows to read). Bucket 0 holds [0, 1 h); bucket
 * i ≥ 1 holds [2^(i-1), 2^i) hours; the last bucket is open-ended (about a year and more).
 */

export const HISTOGRAM_BUCKETS = 15;

/** Lower edge of a bucket, in hours. */
export function bucketLowerHours(bucket: number): number {
  return bucket <= 0 ? 0 : 2 ** (bucket - 1);
}

/** Upper edge of a bucket, in hours; Infinity for the last one. */
export function bucketUpperHours(bucket: number): number {
  return bucket >= HISTOGRAM_BUCKETS - 1 ? Number.POSITIVE_INFINITY : 2 ** bucket;
}

/** The bucket a duration falls in; negative durations (clock skew between writers) count as zero. */
export function bucketOf(hours: number): number {
  if (!(hours >= 1)) return 0;
  return Math.min(HISTOGRAM_BUCKETS - 1, Math.floor(Math.log2(hours)) + 1);
}

export type Histogram = number[];

export function emptyHistogram(): Histogram {
  return Array.from({ length: HISTOGRAM_BUCKETS }, () => 0);
}

/**
 * The median duration in hours, estimated from bucket counts: the bucket holding the middle
 * observation, interpolated inside it (linearly in the first bucket, geometrically in the others,
 * which matches their log spacing). Undefined when nothing was observed. The estimate always lies
 * within the bucket that holds the true median.
 */
export function medianHours(histogram: Histogram): number | undefined {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total <= 0) return undefined;
  const middle = total / 2;
  let below = 0;
  for (let bucket = 0; bucket < histogram.length; bucket++) {
    const count = histogram[bucket] ?? 0;
    if (count <= 0) continue;
    if (below + count >= middle) {
      const fraction = Math.min(1, Math.max(0, (middle - below) / count));
      const low = bucketLowerHours(bucket);
      const high = bucketUpperHours(bucket);
      if (bucket === 0) return high * fraction;
      // The open last bucket has no upper edge: report its lower edge rather than invent one.
      if (!Number.isFinite(high)) return low;
      return low * (high / low) ** fraction;
    }
    below += count;
  }
  return bucketLowerHours(histogram.length - 1);
}
