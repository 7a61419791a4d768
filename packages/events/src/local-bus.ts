/**
 * The local stack's event bus: EventBridge's routing on one machine. It applies the same rule list
 * the SST stacks deploy (routingRules/allRules from the core) with the core's pattern matcher, and
 * delivers like EventBridge does: asynchronously, at least once, retried, dead-lettered at last.
 */
import { randomUUID } from "node:crypto";
import {
  type BusEvent,
  type Clock,
  type EventEnvelope,
  type EventPublisher,
  matchesPattern,
  PublishError,
  type RoutingRule,
} from "@leadloop/core";

export type BusHandler = (event: EventEnvelope, rule: RoutingRule) => Promise<void>;

export interface DeadLetter {
  rule: string;
  event: EventEnvelope;
  error: string;
  attempts: number;
}

export interface LocalBusOptions {
  rules: RoutingRule[];
  /** Handlers by rule target (e.g. `enroll`); a rule whose target has no handler yet is skipped. */
  handlers: Partial<Record<string, BusHandler>>;
  clock: Clock;
  /** Attempts per delivery before it is dead-lettered (EventBridge retries for up to 24 h). */
  attempts?: number;
  retryDelayMs?: number;
  /** Deliveries running at once. */
  concurrency?: number;
  onDeadLetter?: (letter: DeadLetter) => void;
  /** Lets tests and fault suites make the bus refuse events. */
  beforePublish?: (events: BusEvent[]) => void;
}

interface Delivery {
  rule: RoutingRule;
  event: EventEnvelope;
  attempt: number;
}

export class LocalBus implements EventPublisher {
  readonly deadLetters: DeadLetter[] = [];
  /** Every event accepted, newest last (bounded), for the dev routes and tests. */
  readonly history: EventEnvelope[] = [];
  #queue: Delivery[] = [];
  #running = 0;
  #idle: (() => void)[] = [];
  #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  #paused = false;

  constructor(private readonly options: LocalBusOptions) {}

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
    for (const rule of this.options.rules) {
      if (this.options.handlers[rule.target] && matchesPattern(rule.pattern, event)) {
        this.#queue.push({ rule, event, attempt: 1 });
      }
    }
    this.#pump();
  }

  /** Resolves once every accepted event has been delivered or dead-lettered. */
  drain(): Promise<void> {
    if (this.#busy()) return new Promise((resolve) => this.#idle.push(resolve));
    return Promise.resolve();
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

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#queue = [];
    this.#settle();
  }

  #busy(): boolean {
    return this.#queue.length > 0 || this.#running > 0 || this.#timers.size > 0;
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
      const attempts = this.options.attempts ?? 5;
      if (delivery.attempt >= attempts || this.#stopped) {
        const letter: DeadLetter = {
          rule: delivery.rule.name,
          event: delivery.event,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          attempts: delivery.attempt,
        };
        this.deadLetters.push(letter);
        this.options.onDeadLetter?.(letter);
        return;
      }
      const delay = (this.options.retryDelayMs ?? 50) * 2 ** (delivery.attempt - 1);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#queue.push({ ...delivery, attempt: delivery.attempt + 1 });
        this.#pump();
      }, delay);
      this.#timers.add(timer);
    }
  }

  #settle(): void {
    if (this.#busy()) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
