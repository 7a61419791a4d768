/**
 * The local stack's clock: real time plus an offset that `POST /dev/clock/advance` grows, so a
 * week-long sequence can be watched in seconds. The offset is kept on disk, so a restart does not
 * send time backwards past emails already sent.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { durationMs, type Clock } from "@leadloop/core";

export class VirtualClock implements Clock {
  #offsetMs = 0;

  constructor(private readonly file?: string) {
    if (file) {
      try {
        const saved = JSON.parse(readFileSync(file, "utf8")) as { offsetMs?: unknown };
        if (typeof saved.offsetMs === "number" && Number.isFinite(saved.offsetMs)) this.#offsetMs = saved.offsetMs;
      } catch {
        // No saved clock yet: start at real time.
      }
    }
  }

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Moves time forward by an ISO 8601 duration of fixed length (e.g. P2D, PT3H). */
  advance(by: string): Date {
    const ms = durationMs(by);
    if (!(ms > 0)) throw new RangeError(`cannot advance the clock by ${by}: give a positive duration such as P2D`);
    this.#offsetMs += ms;
    if (this.file) writeFileSync(this.file, JSON.stringify({ offsetMs: this.#offsetMs }));
    return this.now();
  }
}
