/**
 * The local stack's clock: real time plus an offset that `POST /dev/clock/advance` grows, so a
 * week-long sequence can be watched in seconds. The offset is kept on disk, so a restart does not
 * send time backwards past emails already sent.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { durationMs, type Clock } from "@leadloop/core";

export interface VirtualClockOptions {
  /**
   * Start "now" at this instant (then let it run at real speed), e.g. to try the stack at 22:00 UTC
   * or on a Saturday whatever the real time. It replaces a saved offset.
   */
  startAt?: Date | string;
}

export class VirtualClock implements Clock {
  #offsetMs = 0;

  constructor(
    private readonly file?: string,
    options: VirtualClockOptions = {},
  ) {
    if (options.startAt !== undefined) {
      const start = new Date(options.startAt).getTime();
      if (!Number.isFinite(start)) throw new RangeError(`cannot start the clock at ${String(options.startAt)}: give an ISO 8601 instant such as 2026-12-05T22:00:00Z`);
      this.#offsetMs = start - Date.now();
      this.#save();
      return;
    }
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
    return this.advanceMs(ms);
  }

  /** Moves time forward by `ms` milliseconds (never backwards: sent emails would be in the future). */
  advanceMs(ms: number): Date {
    if (!(ms >= 0)) throw new RangeError(`cannot move the clock back (${ms} ms)`);
    this.#offsetMs += ms;
    this.#save();
    return this.now();
  }

  /** Moves time forward to `instant`; an instant already past leaves the clock as it is. */
  advanceTo(instant: Date): Date {
    return this.advanceMs(Math.max(0, instant.getTime() - this.now().getTime()));
  }

  #save(): void {
    if (this.file) writeFileSync(this.file, JSON.stringify({ offsetMs: this.#offsetMs }));
  }
}
