/**
 * A small seeded pseudo-random generator (mulberry32), so a simulation run is reproducible: the
 * same seed gives the same leads, the same draws and so the same forecast, on any machine.
 * Not for anything secret.
 */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `p` (clamped to [0, 1]). */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError("cannot pick from an empty list");
    return item;
  }

  /** One of the items, chosen in proportion to its weight; weights need not sum to 1. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + Math.max(0, w), 0);
    if (!(total > 0)) throw new RangeError("weighted pick needs at least one positive weight");
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= Math.max(0, w);
      if (r < 0) return item;
    }
    // Float rounding can leave r a hair above zero: the last positive item takes it.
    return [...items].reverse().find(([, w]) => w > 0)?.[0] as T;
  }

  /** An exponentially distributed wait with the given mean (same unit as the mean). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}

/**
 * A seed for an independent stream, derived from a run seed and a stream number. Each synthetic
 * lead draws from its own stream, so one lead's draws never shift another's: changing the config
 * changes only the leads the change touches, which keeps side-by-side comparisons fair.
 */
export function streamSeed(seed: number, stream: number): number {
  // splitmix32-style finaliser: neighbouring streams get unrelated seeds.
  let z = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
