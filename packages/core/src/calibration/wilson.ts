/**
 * The Wilson score interval for a proportion: unlike the normal approximation it stays inside
 * [0, 1] and is honest about small counts, which is what a handful of closed deals per rule gives.
 */

/** 95% two-sided. */
export const Z_95 = 1.959964;

export function wilsonInterval(successes: number, trials: number, z = Z_95): { low: number; high: number } | null {
  if (trials <= 0) return null;
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
