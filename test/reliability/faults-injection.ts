/**
 * Fault injection for the faults suite: decorators that implement the same ports as the adapters
 * they wrap (lead, nurture and sales stores, the mailer, the bus publisher) and make a share of
 * calls fail the way the real adapters report AWS failing: throttling, a timeout (a delay, then
 * the failure) and a 5xx, each as the port's own retryable error. The draw is a seeded PRNG, so a
 * failing run can be replayed.
 *
 * Every injected fault fails the call before it reaches the engine (a throttled or refused
 * request, a connection that timed out). Faults where AWS did the work and only the answer was
 * lost are a different contract (at-most-once sends cannot survive them without provider
 * idempotency) and are not injected here.
 */
import { MailerUnavailableError, PublishError, StoreUnavailableError } from "@leadloop/core";
import type { StackAdapters } from "@leadloop/local";

export type FaultKind = "throttle" | "timeout" | "5xx";
export const FAULT_KINDS: readonly FaultKind[] = ["throttle", "timeout", "5xx"];

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface FaultPlan {
  /** Share of calls that fail, 0..1, split evenly between the kinds. */
  rate: number;
  seed: number;
  /** Real milliseconds a timeout waits before failing. */
  timeoutMs?: number;
}

/** Counts per adapter and kind, e.g. `leads.throttle`. */
export class FaultLog {
  readonly counts = new Map<string, number>();
  calls = 0;
  enabled = true;

  add(port: string, kind: FaultKind): void {
    const key = `${port}.${kind}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  byKind(kind: FaultKind): number {
    let n = 0;
    for (const [key, count] of this.counts) if (key.endsWith(`.${kind}`)) n += count;
    return n;
  }

  byPort(port: string): number {
    let n = 0;
    for (const [key, count] of this.counts) if (key.startsWith(`${port}.`)) n += count;
    return n;
  }

  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
}

type ErrorFor = (kind: FaultKind, what: string) => Error;

const storeError: ErrorFor = (kind, what) =>
  new StoreUnavailableError(
    {
      throttle: `ProvisionedThroughputExceededException (injected) during ${what}`,
      timeout: `TimeoutError (injected) during ${what}`,
      "5xx": `InternalServerError (injected 500) during ${what}`,
    }[kind],
  );

const mailerError: ErrorFor = (kind) =>
  new MailerUnavailableError(
    {
      throttle: "SES is unavailable (TooManyRequestsException, injected); the send will be retried",
      timeout: "SES is unavailable (TimeoutError, injected); the send will be retried",
      "5xx": "SES is unavailable (InternalFailure 500, injected); the send will be retried",
    }[kind],
  );

const publishError: ErrorFor = (kind) =>
  new PublishError(
    {
      throttle: "EventBridge refused the events (ThrottlingException, injected)",
      timeout: "EventBridge did not answer in time (TimeoutError, injected)",
      "5xx": "EventBridge failed (InternalException 500, injected)",
    }[kind],
  );

/**
 * Wraps every method of `target` except `pure` ones (synchronous, no I/O) so a share of calls
 * fails before reaching it. A Proxy rather than a hand-written class, so a method added to a port
 * later is faulted too instead of silently passing through.
 */
function faulty<T extends object>(target: T, port: string, plan: FaultPlan, random: () => number, log: FaultLog, errorFor: ErrorFor, pure: string[] = []): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      // Private fields need the real object as `this`.
      if (pure.includes(prop)) return (value as (...a: unknown[]) => unknown).bind(obj);
      return async (...args: unknown[]) => {
        log.calls++;
        const draw = random();
        if (log.enabled && draw < plan.rate) {
          const kind = FAULT_KINDS[Math.min(FAULT_KINDS.length - 1, Math.floor((draw / plan.rate) * FAULT_KINDS.length))] as FaultKind;
          log.add(port, kind);
          if (kind === "timeout") await new Promise((resolve) => setTimeout(resolve, plan.timeoutMs ?? 25));
          throw errorFor(kind, `${port}.${prop}`);
        }
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
}

/** The `wrapAdapters` option for startLocalStack: every port faulty at `plan.rate`. */
export function faultyAdapters(plan: FaultPlan, log: FaultLog): (bare: StackAdapters) => Partial<StackAdapters> {
  const random = seededRandom(plan.seed);
  return (bare) => ({
    leads: faulty(bare.leads, "leads", plan, random, log, storeError, ["leadIdFor"]),
    nurture: faulty(bare.nurture, "nurture", plan, random, log, storeError),
    sales: faulty(bare.sales, "sales", plan, random, log, storeError),
    mailer: faulty(bare.mailer, "mailer", plan, random, log, mailerError),
    publisher: faulty(bare.publisher, "publisher", plan, random, log, publishError),
  });
}
