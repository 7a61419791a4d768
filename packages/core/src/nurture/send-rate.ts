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
    const now = this.nowMs();
    const slot = Math.max(now, this.#next);
    this.#next = slot + 1000 / this.perSecond;
    if (slot > now) await this.sleep(slot - now);
  }
}
