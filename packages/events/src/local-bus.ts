/**
 * The local stack's event bus: EventBridge's routing on one machine. It applies the same rule list
 * the SST stacks deploy (routingRules/allRules from the core) with the core's pattern matcher, and
 * delivers like EventBridge does: asynchronously, at least once, retried under the rule's delivery
 * policy (the same one the stacks deploy), dead-lettered at last. Retries fall due on the
 * injected clock, so a virtual-clock advance runs the ones it crosses (`runDue`) instead of a test
 * waiting hours of EventBridge back-off in real time.
 */
import { randomUUID } from "node:crypto";
import {
  type BusEvent,
  type Clock,
  type DeliveryPolicy,
  deliveryPolicy,
  type EventEnvelope,
  type EventPublisher,
  matchesPattern,
  PublishError,
  type RoutingRule,
  retrySchedule,
} from "@leadloop/core";

export type BusHandler = (event: EventEnvelope, rule: RoutingRule) => Promise<void>;

export interface DeadLetter {
  /** Stable across restarts and redrives: the redrive removes exactly this letter. */
  id: string;
  rule: string;
  event: EventEnvelope;
  error: string;
  attempts: number;
  /** Clock time the delivery was given up. */
  at: string;
}

export interface RedriveReport {
  redriven: number;
  failed: number;
  /** Letters whose rule is no longer deployed (config changed); kept for an operator to read. */
  unknownRule: number;
}

export interface LocalBusOptions {
  rules: RoutingRule[];
  /** Handlers by rule target (e.g. `enroll`); a rule whose target has no handler yet is skipped. */
  handlers: Partial<Record<string, BusHandler>>;
  clock: Clock;
  /** The rule's delivery policy; defaults to the core's (`deliveryPolicy`), which the stacks deploy too. */
  policyOf?: (rule: RoutingRule) => DeliveryPolicy;
  /** Overrides the policy's first back-off (doubling from there), e.g. to keep a fault suite fast. */
  retryDelayMs?: number;
  /**
   * `drain()` also waits for retries due within this long (clock time), so a lead that was not
   * stored yet is enrolled before drain returns; later retries wait for the clock. Default 2 s.
   */
  drainWithinMs?: number;
  /** Deliveries running at once. */
  concurrency?: number;
  /** Dead letters kept from an earlier run (the local stack reads them from its data folder). */
  deadLetters?: DeadLetter[];
  /** Called whenever the dead letters change (one added, some redriven), e.g. to save them. */
  onDeadLettersChanged?: (letters: readonly DeadLetter[]) => void;
  onDeadLetter?: (letter: DeadLetter) => void;
  /** Lets tests and fault suites make the bus refuse events. */
  beforePublish?: (events: BusEvent[]) => void;
}

interface Delivery {
  rule: RoutingRule;
  event: EventEnvelope;
  attempt: number;
}

interface WaitingRetry {
  dueAt: number;
  delivery: Delivery;
  timer: NodeJS.Timeout;
  /** Its real timer fired while retries were held: it starts when the hold ends. */
  fired?: boolean;
}

export class LocalBus implements EventPublisher {
  readonly deadLetters: DeadLetter[];
  /** Every event accepted, newest last (bounded), for the dev routes and tests. */
  readonly history: EventEnvelope[] = [];
  #queue: Delivery[] = [];
  #waiting: WaitingRetry[] = [];
  #running = 0;
  #idle: (() => void)[] = [];
  #idleTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #paused = false;
  #held = false;
  #redriving: Promise<unknown> = Promise.resolve();
  #rules: readonly RoutingRule[];

  constructor(private readonly options: LocalBusOptions) {
    this.deadLetters = [...(options.deadLetters ?? [])];
    this.#rules = options.rules;
  }

  /** The rules events are matched against now. */
  get rules(): readonly RoutingRule[] {
    return this.#rules;
  }

  /**
   * Routes every event accepted from now on by these rules (a config reload, as a deploy replaces
   * EventBridge rules); deliveries already queued or waiting to retry keep the rule they matched.
   */
  setRules(rules: readonly RoutingRule[]): void {
    this.#rules = rules;
  }

  async publish(events: BusEvent[]): Promise<void> {
    if (this.#stopped) throw new PublishError("the local bus is stopped");
    this.options.beforePublish?.(events);
    for (const e of events) {
      this.put({
        version: "0",
        id: randomUUID(),
        source: e.source ?? "leadloop",
        "detail-type": e.type,
        account: "000000000000",
        region: "local",
        time: e.time ?? this.options.clock.now().toISOString(),
        resources: [],
        detail: e.detail,
      });
    }
  }

  /** Accepts a ready-made envelope, e.g. an SES event shaped like AWS's. */
  put(event: EventEnvelope): void {
    this.history.push(event);
    if (this.history.length > 1000) this.history.shift();
    for (const rule of this.#rules) {
      if (this.options.handlers[rule.target] && matchesPattern(rule.pattern, event)) {
        this.#queue.push({ rule, event, attempt: 1 });
      }
    }
    this.#pump();
  }

  /**
   * Resolves once every accepted event has been delivered or dead-lettered, or waits for a retry
   * due later than `drainWithinMs` from now (a clock advance runs those).
   */
  drain(options: { retries?: boolean } = {}): Promise<void> {
    // `retries: false`: only what is running or queued; a clock advance runs the retries itself.
    const busy = options.retries === false ? () => this.#queue.length > 0 || this.#running > 0 : () => this.#busy();
    if (!busy()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (busy() ? this.#idle.push(check) : resolve());
      this.#idle.push(check);
    });
  }

  /** When the earliest waiting retry falls due, if any. */
  nextRetryAt(): Date | undefined {
    const first = this.#waiting.reduce<number | undefined>((min, w) => (min === undefined || w.dueAt < min ? w.dueAt : min), undefined);
    return first === undefined ? undefined : new Date(first);
  }

  /** Starts every retry due by the clock's now, earliest first (after the clock moved). */
  runDue(): void {
    const now = this.options.clock.now().getTime();
    const due = this.#waiting.filter((w) => w.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    for (const w of due) this.#release(w);
    this.#pump();
  }

  /**
   * Replays dead letters through the same handlers, once each, and forgets those that succeed.
   * Every handler is idempotent, so a letter whose first delivery half-succeeded is safe to replay;
   * redrives run one at a time, so two overlapping calls cannot replay one letter twice.
   */
  redrive(ids?: readonly string[]): Promise<RedriveReport> {
    const run = this.#redriving.then(() => this.#redrive(ids));
    this.#redriving = run.catch(() => {});
    return run;
  }

  async #redrive(ids: readonly string[] | undefined): Promise<RedriveReport> {
    const report: RedriveReport = { redriven: 0, failed: 0, unknownRule: 0 };
    const chosen = this.deadLetters.filter((l) => !ids || ids.includes(l.id));
    for (const letter of chosen) {
      const rule = this.#rules.find((r) => r.name === letter.rule);
      const handler = rule && this.options.handlers[rule.target];
      if (!rule || !handler) {
        report.unknownRule++;
        continue;
      }
      try {
        await handler(letter.event, rule);
        this.deadLetters.splice(this.deadLetters.indexOf(letter), 1);
        report.redriven++;
      } catch (error) {
        letter.error = describe(error);
        report.failed++;
      }
    }
    if (chosen.length > 0) this.options.onDeadLettersChanged?.(this.deadLetters);
    return report;
  }

  /**
   * Holds deliveries (events are still accepted and queued), e.g. to measure the capture path on
   * its own the way EventBridge decouples it from its targets in AWS.
   */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  /**
   * While held, a waiting retry starts only from runDue, at its clock time: a clock advance takes
   * each one itself, so none starts on its real timer while the advance decides where to jump
   * (it would be running, neither waiting nor queued, and its next retry would land past the
   * advance). A timer that fired meanwhile starts its retry when the hold ends.
   */
  holdRetries(held: boolean): void {
    this.#held = held;
    if (held) return;
    for (const w of this.#waiting.filter((w) => w.fired)) this.#release(w);
    this.#pump();
  }

  stop(): void {
    this.#stopped = true;
    for (const w of this.#waiting) clearTimeout(w.timer);
    // What was still owed a delivery would be lost with the process: keep it as a dead letter, so
    // the next start lists it and a redrive delivers it.
    const owed = [...this.#waiting.map((w) => w.delivery), ...this.#queue];
    this.#waiting = [];
    this.#queue = [];
    for (const delivery of owed) {
      this.deadLetters.push({
        id: randomUUID(),
        rule: delivery.rule.name,
        event: delivery.event,
        error: "the local bus stopped before this delivery ran; redrive it",
        attempts: delivery.attempt - 1,
        at: this.options.clock.now().toISOString(),
      });
    }
    if (owed.length > 0) this.options.onDeadLettersChanged?.(this.deadLetters);
    clearTimeout(this.#idleTimer);
    // A stopped bus delivers nothing more: every drain is over.
    for (const check of this.#idle.splice(0)) check();
  }

  #busy(): boolean {
    if (this.#queue.length > 0 || this.#running > 0) return true;
    const horizon = this.options.clock.now().getTime() + (this.options.drainWithinMs ?? 2_000);
    return this.#waiting.some((w) => w.dueAt <= horizon);
  }

  #pump(): void {
    const limit = this.options.concurrency ?? 8;
    while (!this.#stopped && !this.#paused && this.#running < limit && this.#queue.length > 0) {
      const delivery = this.#queue.shift()!;
      this.#running++;
      void this.#deliver(delivery).finally(() => {
        this.#running--;
        this.#pump();
        this.#settle();
      });
    }
  }

  async #deliver(delivery: Delivery): Promise<void> {
    const handler = this.options.handlers[delivery.rule.target];
    if (!handler) return;
    try {
      await handler(delivery.event, delivery.rule);
    } catch (error) {
      const delays = this.#retryDelays(delivery.rule);
      const delay = delays[delivery.attempt - 1];
      if (delay === undefined || this.#stopped) {
        const letter: DeadLetter = {
          id: randomUUID(),
          rule: delivery.rule.name,
          event: delivery.event,
          error: describe(error),
          attempts: delivery.attempt,
          at: this.options.clock.now().toISOString(),
        };
        this.deadLetters.push(letter);
        this.options.onDeadLetter?.(letter);
        this.options.onDeadLettersChanged?.(this.deadLetters);
        return;
      }
      this.#schedule({ ...delivery, attempt: delivery.attempt + 1 }, delay);
    }
  }

  #retryDelays(rule: RoutingRule): number[] {
    const policy = (this.options.policyOf ?? deliveryPolicy)(rule);
    const first = this.options.retryDelayMs;
    return retrySchedule(first === undefined ? policy : { ...policy, firstRetryDelayMs: first });
  }

  /** The clock may be virtual: the retry is due at clock time, and a real timer fires it if no advance does first. */
  #schedule(delivery: Delivery, delayMs: number): void {
    const waiting: WaitingRetry = {
      dueAt: this.options.clock.now().getTime() + delayMs,
      delivery,
      timer: setTimeout(() => {
        if (this.#held) waiting.fired = true;
        else this.#release(waiting, true);
      }, delayMs),
    };
    waiting.timer.unref?.();
    this.#waiting.push(waiting);
  }

  #release(waiting: WaitingRetry, pump = false): void {
    const index = this.#waiting.indexOf(waiting);
    if (index < 0) return;
    this.#waiting.splice(index, 1);
    clearTimeout(waiting.timer);
    this.#queue.push(waiting.delivery);
    if (pump) this.#pump();
  }

  /** Lets every drain look again; those still waiting (a near retry) look again shortly. */
  #settle(): void {
    for (const check of this.#idle.splice(0)) check();
    if (this.#idle.length > 0 && !this.#idleTimer && !this.#stopped) {
      this.#idleTimer = setTimeout(() => {
        this.#idleTimer = undefined;
        this.#settle();
      }, 50);
      this.#idleTimer.unref?.();
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
