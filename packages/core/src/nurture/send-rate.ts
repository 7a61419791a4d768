/**
 * Keeps one sweep under the account's sending rate: each send waits for its slot. Time here is
 * real (SES counts real seconds), so the clock and the sleep are injected for tests.
 */
export class SendRateGate {
  #next = 0;

  constructor(
    private readonly perSecond: number,
    private readonly nowMs: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async take(): Promise<void> {
    await this.waitFor(this.reserve());
  }

  /**
   * Books the next free slot without waiting for it: the time (ms, this gate's clock) at which
   * its send may start. Lets a sweeper know, before it claims a step, whether its send can
   * still start before the run's deadline.
   */
  reserve(): number {
    const slot = Math.max(this.nowMs(), this.#next);
    this.#next = slot + 1000 / this.perSecond;
    return slot;
  }

  /** Waits until a slot `reserve` booked has come. */
  async waitFor(slot: number): Promise<void> {
    const now = this.nowMs();
    if (slot > now) await this.sleep(slot - now);
  }
}
