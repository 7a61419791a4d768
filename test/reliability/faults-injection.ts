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
  /**
   * Names whose call this is (e.g. the lead it is about). A named call draws from its own stream,
   * keyed by seed, port, method, name and how many such calls came before, so a lead meets the
   * same faults in a replay with the same seed however the calls of other leads interleave.
   */
  keyOf?: (args: unknown[]) => string | undefined;
  /**
   * A schedule aimed at one step, for regression tests: the fault to inject on this call, if any.
   * Consulted before the random draw; with `rate: 0` it is the only source of faults.
   */
  aim?: (call: { port: string; method: string; args: unknown[] }) => FaultKind | { delayMs: number } | undefined;
}

/** A draw in [0, 1) that depends only on the seed and the text. */
function keyedDraw(seed: number, text: string): number {
  // FNV-1a over the text, mixed with the seed, then one mulberry32 step.
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return seededRandom(h >>> 0)();
}

/** One injected fault, with what the call was about, for a violating lead's trace. */
export interface InjectedFault {
  n: number;
  /** Real milliseconds since the log was made, to order faults against deliveries in a trace. */
  ms: number;
  port: string;
  method: string;
  kind: FaultKind;
  /** The call's arguments as JSON (cut short): a lead's id or address shows whose call it was. */
  args: string;
}

/** Counts per adapter and kind, e.g. `leads.throttle`, and every fault injected. */
export class FaultLog {
  readonly counts = new Map<string, number>();
  readonly injected: InjectedFault[] = [];
  /** Calls per `port.method`, faulted or not. */
  readonly callsTo = new Map<string, number>();
  readonly started = performance.now();
  calls = 0;
  enabled = true;

  add(port: string, kind: FaultKind, method = "?", args: unknown[] = []): void {
    const key = `${port}.${kind}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.injected.push({ n: this.injected.length + 1, ms: performance.now() - this.started, port, method, kind, args: argsText(args) });
  }

  /** The faults injected on calls that named any of `needles` (a lead's id, its address). */
  about(...needles: string[]): InjectedFault[] {
    return this.injected.filter((f) => needles.some((n) => n && f.args.includes(n)));
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

function argsText(args: unknown[]): string {
  try {
    return (JSON.stringify(args, (_k, v: unknown) => (typeof v === "function" ? undefined : v)) ?? "").slice(0, 2_000);
  } catch {
    return "";
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
  const nth = new Map<string, number>();
  const drawFor = (method: string, args: unknown[]): number => {
    const key = plan.keyOf?.(args);
    if (key === undefined) return random();
    const stream = `${port}.${method}.${key}`;
    const n = (nth.get(stream) ?? 0) + 1;
    nth.set(stream, n);
    return keyedDraw(plan.seed, `${stream}#${n}`);
  };
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      // Private fields need the real object as `this`.
      if (pure.includes(prop)) return (value as (...a: unknown[]) => unknown).bind(obj);
      return async (...args: unknown[]) => {
        log.calls++;
        log.callsTo.set(`${port}.${prop}`, (log.callsTo.get(`${port}.${prop}`) ?? 0) + 1);
        let aimed = log.enabled ? plan.aim?.({ port, method: prop, args }) : undefined;
        if (typeof aimed === "object") {
          // A slow call that then succeeds: lets a test order two deliveries that race.
          await new Promise((resolve) => setTimeout(resolve, (aimed as { delayMs: number }).delayMs));
          aimed = undefined;
        }
        const draw = aimed || !log.enabled ? 1 : drawFor(prop, args);
        if (aimed || draw < plan.rate) {
          const kind = aimed ?? (FAULT_KINDS[Math.min(FAULT_KINDS.length - 1, Math.floor((draw / plan.rate) * FAULT_KINDS.length))] as FaultKind);
          log.add(port, kind, prop, args);
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
    leads: faulty(bare.leads, "leads", plan, random, log, storeError, ["leadIdFor", "suppressionGuard"]),
    nurture: faulty(bare.nurture, "nurture", plan, random, log, storeError),
    sales: faulty(bare.sales, "sales", plan, random, log, storeError),
    mailer: faulty(bare.mailer, "mailer", plan, random, log, mailerError),
    publisher: faulty(bare.publisher, "publisher", plan, random, log, publishError),
  });
}
