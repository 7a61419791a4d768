import { describe, expect, it } from "vitest";
import { loadConfigOrThrow } from "./config/load";
import { HANDLERS, handlerFor, JOBS, REGISTRY, registryEntry, rulesOf, scheduleExpression, UnknownEntryError } from "./registry";
import { ASYNC_RETRY_DELAYS_MS, DEFAULT_DELIVERY, allRules, retrySchedule } from "./routing/routing-rules";

describe("registry", () => {
  const config = loadConfigOrThrow("config");

  it("has one handler for every target the rules route to, and every handler is some rule's target", () => {
    for (const rule of allRules(config)) expect(handlerFor(rule.target), rule.name).toBeDefined();
    for (const entry of HANDLERS) expect(rulesOf(entry, config).length, entry.name).toBeGreaterThan(0);
  });

  it("names each entry once, as a function file name", () => {
    const names = REGISTRY.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z][a-z-]*$/);
    expect(() => registryEntry("nope")).toThrow(UnknownEntryError);
    // A schedule's function is triggered as its jobs are: by the schedule.
    expect(registryEntry("republishers").kind).toBe("job");
    expect(registryEntry("sales-checks").name).toBe("claim-sla");
  });

  it("gives each job a schedule EventBridge understands", () => {
    expect(JOBS.map(scheduleExpression)).toContain("rate(1 minute)");
    for (const job of JOBS) expect(scheduleExpression(job)).toMatch(/^rate\(\d+ minutes?\)$/);
  });
});

describe("delivery policy", () => {
  it("retries as EventBridge does, then as Lambda does, within the event's maximum age", () => {
    const delays = retrySchedule(DEFAULT_DELIVERY);
    expect(delays).toHaveLength(DEFAULT_DELIVERY.retryAttempts + DEFAULT_DELIVERY.asyncRetryAttempts);
    expect(delays.slice(0, 3)).toEqual([DEFAULT_DELIVERY.firstRetryDelayMs, DEFAULT_DELIVERY.firstRetryDelayMs * 2, DEFAULT_DELIVERY.firstRetryDelayMs * 4]);
    expect(delays.slice(-2)).toEqual([...ASYNC_RETRY_DELAYS_MS]);
    expect(retrySchedule({ ...DEFAULT_DELIVERY, maxEventAgeSeconds: 60 })).not.toContain(120_000);
  });
});
