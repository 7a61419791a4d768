/**
 * Outgoing webhooks: each bus event an endpoint of config/webhooks.yaml subscribes to (and whose
 * filter matches) becomes one delivery, signed with the endpoint's key and posted to its URL. A
 * delivery is stored before its first attempt and keyed by (endpoint, event), so a redelivered
 * event adds nothing and the receiver sees one delivery id however often it is tried. A failed
 * attempt is retried with back-off for a day by the `webhook-retries` job; a dead endpoint costs
 * its own handler an attempt's timeout, never the hand-off, which is another rule target.
 */
import { createHash, createHmac } from "node:crypto";
import * as z from "../zod-mini";
import type { LeadloopConfig, WebhookEndpoint, WebhookEvent } from "../config/schema";
import { WEBHOOK_EVENTS } from "../event-names";
import { sweepDueIndex } from "../due-index";
import type { Lead } from "../lead";
import type { Clock, LeadStore } from "../ports";
import { type EventEnvelope, BUS_SOURCE } from "../routing/routing-rules";
import { type EventPattern, matchesPattern } from "../routing/pattern-matcher";
import type { SalesStore } from "../sales/sales-store";

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = "Leadloop-Signature";
/** The delivery's id: the same on every retry, so a receiver can drop repeats. */
export const DELIVERY_HEADER = "Leadloop-Delivery";
export const EVENT_HEADER = "Leadloop-Event";

/**
 * The pause after each failed attempt: eight attempts over about a day (1 min, 5 min, 30 min, 2 h,
 * 5 h, 8 h, 8 h after the one before), then the delivery is given up and stays listed as failed.
 */
export const WEBHOOK_RETRY_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 8 * 3_600_000, 8 * 3_600_000] as const;
/** One attempt waits this long for an answer; a slower receiver counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 5_000;
/** An attempt in flight holds its delivery this long; a crashed attempt is retried after it. */
export const WEBHOOK_LEASE_MS = 60_000;
/** Attempts kept on a delivery for the admin's view (the count keeps going). */
export const KEPT_ATTEMPTS = 10;
/** A qualified lead's owner is waited for this long (the hand-off runs beside this handler). */
export const OWNER_WAIT_MS = 2 * 60_000;

export interface WebhookAttempt {
  at: string;
  /** The receiver's HTTP status; absent when no answer came (timeout, refused connection). */
  status?: number;
  error?: string;
  durationMs: number;
}

export type DeliveryState = "pending" | "delivered" | "failed";

export interface WebhookDelivery {
  endpointId: string;
  deliveryId: string;
  eventType: WebhookEvent;
  eventId: string;
  /** The event's time: orders an endpoint's deliveries. */
  createdAt: string;
  /** The exact JSON posted on every attempt. */
  body: string;
  state: DeliveryState;
  attemptCount: number;
  attempts: WebhookAttempt[];
  /** While pending: when the next attempt is due. */
  nextAttemptAt?: string;
}

/** A delivery as the due index names it. */
export interface DueDelivery {
  endpointId: string;
  deliveryId: string;
  createdAt: string;
  dueAt: string;
}

export interface WebhookStore {
  readonly shards: number;
  /** Stores a new delivery, held by its first attempt until `heldUntil`; false when it exists already. */
  createDelivery(delivery: WebhookDelivery, heldUntil: string): Promise<boolean>;
  listDueDeliveries(shard: number, upTo: string, limit: number): Promise<DueDelivery[]>;
  /** Takes a due delivery until `until` (conditional on the due time read); undefined when another run took it. */
  claimDelivery(ref: DueDelivery, until: string): Promise<WebhookDelivery | undefined>;
  /** Records an attempt and what follows (the next due time, or the end), while still held until `heldUntil`. */
  settleDelivery(delivery: WebhookDelivery, heldUntil: string): Promise<void>;
  /** The endpoint's latest deliveries, newest first. */
  listRecentDeliveries(endpointId: string, limit: number): Promise<WebhookDelivery[]>;
}

/** Posts one delivery; resolves with the receiver's status, rejects when no answer came in time. */
export interface WebhookSender {
  post(url: string, request: { headers: Record<string, string>; body: string; timeoutMs: number }): Promise<{ status: number }>;
}

/** Where an endpoint is and the key its deliveries are signed with, read from its secrets. */
export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface WebhookDeps {
  config: LeadloopConfig;
  leads: Pick<LeadStore, "getLead">;
  sales: Pick<SalesStore, "getHandoff">;
  webhooks: WebhookStore;
  sender: WebhookSender;
  /** By endpoint id; an endpoint missing here is not configured on this stage and gets nothing. */
  targets: Record<string, WebhookTarget>;
  clock: Clock;
  /**
   * Real time for the signature's timestamp (receivers compare it with their own clock); the
   * clock above may be virtual. Default Date.now.
   */
  nowMs?: () => number;
  log?: { info(message: string, extra?: Record<string, unknown>): void; warn(message: string, extra?: Record<string, unknown>): void };
}

export class OwnerNotYetAssignedError extends Error {
  override readonly name = "OwnerNotYetAssignedError";
  constructor(readonly leadId: string) {
    super(`Lead ${leadId} qualified but its hand-off has not assigned a rep yet; the delivery is built again on the bus's retry.`);
  }
}

/** The Leadloop-Signature value for a body sent at `timestampSeconds`. */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  const v1 = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return `t=${timestampSeconds},v1=${v1}`;
}

const deliveryIdOf = (endpointId: string, eventId: string) => createHash("sha256").update(`${endpointId}\n${eventId}`).digest("hex").slice(0, 32);

const isWebhookEvent = (type: string): type is WebhookEvent => (WEBHOOK_EVENTS as readonly string[]).includes(type);

/** A lead as a CRM creates a lead or contact from it. */
function crmLead(lead: Lead) {
  const { email: _email, ...profile } = lead.profile;
  return {
    id: lead.id,
    email: lead.email,
    profile,
    segment: lead.segment,
    stage: lead.stage,
    firstTouch: lead.firstTouch,
    lastTouch: lead.lastTouch,
    createdAt: lead.createdAt,
  };
}

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

// The deliveries' payloads, declared once: webhookData parses what it sends with these, and the
// OpenAPI document's `webhooks` section is generated from them.
const Touch = z.looseObject({
  formId: z.string(),
  at: z.string(),
  utm_source: z.optional(z.string()),
  utm_medium: z.optional(z.string()),
  utm_campaign: z.optional(z.string()),
});
export const WebhookLead = z
  .looseObject({
    id: z.string(),
    email: z.string(),
    profile: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).check(z.describe("what the lead's forms collected, by field name")),
    segment: z.string(),
    stage: z.string(),
    firstTouch: Touch.check(z.describe("the submission that created the lead, with its UTM source")),
    lastTouch: Touch.check(z.describe("the latest submission")),
    createdAt: z.string(),
  })
  .check(z.describe("the lead as a CRM creates a lead or contact from it"));
const Owner = z.object({ email: z.string(), name: z.optional(z.string()), teamId: z.string() }).check(z.describe("the rep the hand-off assigned"));
const Reason = z.looseObject({ rule: z.string(), category: z.enum(["fit", "engagement"]), points: z.number() });
export const WebhookData = {
  "lead.qualified": z.object({
    lead: WebhookLead,
    segment: z.string(),
    score: z.object({
      total: z.number(),
      threshold: z.number(),
      fit: z.nullable(z.number()),
      engagement: z.nullable(z.number()),
      reasons: z.array(Reason).check(z.describe("largest effect first; the points add up to the total")),
    }),
    qualifiedAt: z.optional(z.string()),
    owner: z.nullable(Owner).check(z.describe("null when no team covers the lead")),
  }),
  "lead.assigned": z.object({ lead: WebhookLead, segment: z.string(), owner: Owner, assignedAt: z.string(), claimBy: z.string() }),
  "lead.closed": z.object({
    lead: WebhookLead,
    segment: z.string(),
    owner: Owner,
    outcome: z.enum(["won", "lost", "disqualified", "not-now"]),
    reason: z.nullable(z.string()),
    amount: z.nullable(z.number()),
    currency: z.nullable(z.string()),
    closedAt: z.string(),
  }),
  "customer.purchase": z.object({
    customerId: z.string(),
    purchaseId: z.string(),
    amount: z.number(),
    currency: z.string(),
    points: z.number().check(z.describe("the points this purchase earned")),
    purchasedAt: z.string(),
  }),
  "customer.tier_changed": z.object({ customerId: z.string(), from: z.nullable(z.string()), to: z.nullable(z.string()), balance: z.number() }),
} as const satisfies Record<WebhookEvent, z.ZodMiniType>;

/** The JSON body of a delivery of `type`. */
export function webhookBodySchema<T extends WebhookEvent>(type: T) {
  return z.object({
    id: z.string().check(z.describe("the delivery id, also in the Leadloop-Delivery header; the same on every retry")),
    type: z.literal(type),
    createdAt: z.string().check(z.describe("when the event happened")),
    data: WebhookData[type],
  });
}

/**
 * The delivery's `data` for an event: the CRM-shaped lead (profile, segment, touches) with what
 * the event adds (the score and its reasons and the owner for a qualification, the outcome for a
 * closure). Undefined when the lead is gone (erased): nothing is sent about it.
 */
export async function webhookData(deps: WebhookDeps, event: EventEnvelope): Promise<Record<string, unknown> | undefined> {
  const d = event.detail;
  if (event["detail-type"] === "customer.purchase") {
    return WebhookData["customer.purchase"].parse({
      customerId: d.leadId,
      purchaseId: d.purchaseId,
      amount: d.amount,
      currency: d.currency,
      points: d.points,
      purchasedAt: d.purchasedAt,
    });
  }
  if (event["detail-type"] === "customer.tier_changed") {
    return WebhookData["customer.tier_changed"].parse({ customerId: d.leadId, from: d.from ?? null, to: d.to ?? null, balance: d.balance });
  }
  const leadId = str(d.leadId);
  const lead = leadId ? await deps.leads.getLead(leadId) : undefined;
  if (!lead) return undefined;
  const base = crmLead(lead);
  switch (event["detail-type"]) {
    case "lead.qualified": {
      const handoff = await deps.sales.getHandoff(lead.id);
      const qualifiedAt = str(d.qualifiedAt);
      const assigned = handoff?.item && handoff.qualifiedAt === qualifiedAt ? handoff.item : undefined;
      const teamCovers = deps.config.teams.teams.some((t) => t.segments.includes(lead.segment));
      if (!assigned && teamCovers && deps.clock.now().getTime() - Date.parse(event.time) < OWNER_WAIT_MS) throw new OwnerNotYetAssignedError(lead.id);
      return WebhookData["lead.qualified"].parse({
        lead: base,
        segment: lead.segment,
        score: { total: d.score, threshold: d.threshold, fit: lead.score?.fit ?? null, engagement: lead.score?.engagement ?? null, reasons: d.reasons ?? [] },
        qualifiedAt,
        owner: assigned ? { email: assigned.rep, name: assigned.repName, teamId: assigned.teamId } : null,
      });
    }
    case "lead.assigned":
      return WebhookData["lead.assigned"].parse({ lead: base, segment: lead.segment, owner: { email: d.rep, teamId: d.teamId }, assignedAt: d.queuedAt, claimBy: d.claimBy });
    case "lead.closed":
      return WebhookData["lead.closed"].parse({
        lead: base,
        segment: lead.segment,
        owner: { email: d.rep, teamId: d.teamId },
        outcome: d.outcome,
        reason: d.reason ?? null,
        amount: d.amount ?? null,
        currency: d.currency ?? null,
        closedAt: d.closedAt,
      });
    default:
      return undefined;
  }
}

/** The endpoints of config/webhooks.yaml that take this event (type and filter). */
export function endpointsFor(endpoints: readonly WebhookEndpoint[], type: WebhookEvent, data: Record<string, unknown>): WebhookEndpoint[] {
  return endpoints.filter((e) => e.events.includes(type) && (!e.filter || matchesPattern(e.filter as EventPattern, data)));
}

export interface EnqueueReport {
  type?: string;
  /** Endpoints a delivery was stored for now. */
  queued: number;
  /** Of those, delivered at the first attempt. */
  delivered: number;
  /** Deliveries stored by an earlier delivery of this event. */
  repeated: number;
  skipped?: string;
}

/**
 * The `webhooks` rule target: stores a delivery per subscribed endpoint and makes its first
 * attempt at once. Throws only OwnerNotYetAssignedError (and store failures), which the bus retries.
 */
export async function deliverWebhooks(deps: WebhookDeps, event: EventEnvelope): Promise<EnqueueReport> {
  const type = event["detail-type"];
  const report: EnqueueReport = { type, queued: 0, delivered: 0, repeated: 0 };
  const endpoints = (deps.config.webhooks?.endpoints ?? []).filter((e) => deps.targets[e.id] !== undefined);
  if (event.source !== BUS_SOURCE || !isWebhookEvent(type)) return { ...report, skipped: "not a webhook event" };
  if (!endpoints.some((e) => e.events.includes(type))) return { ...report, skipped: "no endpoint takes it" };
  const data = await webhookData(deps, event);
  if (!data) return { ...report, skipped: "the lead is gone" };
  const now = deps.clock.now();
  const heldUntil = new Date(now.getTime() + WEBHOOK_LEASE_MS).toISOString();
  await Promise.all(
    endpointsFor(endpoints, type, data).map(async (endpoint) => {
      const deliveryId = deliveryIdOf(endpoint.id, event.id);
      const delivery: WebhookDelivery = {
        endpointId: endpoint.id,
        deliveryId,
        eventType: type,
        eventId: event.id,
        createdAt: event.time,
        body: JSON.stringify({ id: deliveryId, type, createdAt: event.time, data }),
        state: "pending",
        attemptCount: 0,
        attempts: [],
        nextAttemptAt: heldUntil,
      };
      if (!(await deps.webhooks.createDelivery(delivery, heldUntil))) {
        report.repeated++;
        return;
      }
      report.queued++;
      if ((await attemptDelivery(deps, delivery, heldUntil)).state === "delivered") report.delivered++;
    }),
  );
  return report;
}

/** One attempt of a held delivery, recorded with what follows it. Never throws for the receiver's failure. */
async function attemptDelivery(deps: WebhookDeps, delivery: WebhookDelivery, heldUntil: string): Promise<WebhookDelivery> {
  const target = deps.targets[delivery.endpointId];
  const started = (deps.nowMs ?? Date.now)();
  const at = deps.clock.now();
  let attempt: WebhookAttempt;
  if (!target) {
    attempt = { at: at.toISOString(), error: "the endpoint is no longer configured on this stage", durationMs: 0 };
  } else {
    try {
      const { status } = await deps.sender.post(target.url, {
        headers: {
          "content-type": "application/json",
          "user-agent": "leadloop-webhooks/1",
          [SIGNATURE_HEADER]: signWebhook(target.secret, Math.floor(started / 1000), delivery.body),
          [DELIVERY_HEADER]: delivery.deliveryId,
          [EVENT_HEADER]: delivery.eventType,
        },
        body: delivery.body,
        timeoutMs: WEBHOOK_TIMEOUT_MS,
      });
      attempt = { at: at.toISOString(), status, durationMs: (deps.nowMs ?? Date.now)() - started };
    } catch (error) {
      attempt = { at: at.toISOString(), error: error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200), durationMs: (deps.nowMs ?? Date.now)() - started };
    }
  }
  const ok = attempt.status !== undefined && attempt.status >= 200 && attempt.status < 300;
  const attemptCount = delivery.attemptCount + 1;
  const delay = WEBHOOK_RETRY_DELAYS_MS[attemptCount - 1];
  const { nextAttemptAt: _previous, ...rest } = delivery;
  const settled: WebhookDelivery = {
    ...rest,
    attemptCount,
    attempts: [...delivery.attempts, attempt].slice(-KEPT_ATTEMPTS),
    state: ok ? "delivered" : delay === undefined ? "failed" : "pending",
    ...(!ok && delay !== undefined ? { nextAttemptAt: new Date(at.getTime() + delay).toISOString() } : {}),
  };
  await deps.webhooks.settleDelivery(settled, heldUntil);
  if (!ok) {
    deps.log?.warn(settled.state === "failed" ? "webhook delivery given up" : "webhook delivery failed; retried later", {
      endpoint: delivery.endpointId,
      delivery: delivery.deliveryId,
      type: delivery.eventType,
      attempt: attemptCount,
      status: attempt.status,
      error: attempt.error,
      ...(settled.nextAttemptAt ? { next: settled.nextAttemptAt } : {}),
    });
  }
  return settled;
}

export interface WebhookRetryReport {
  due: number;
  delivered: number;
  failed: number;
  gaveUp: number;
  lost: number;
  deferred: number;
}

/** The `webhook-retries` job: every delivery whose next attempt is due is tried once more. */
export async function retryWebhooks(deps: WebhookDeps, options: { deadline?: number; batch?: number } = {}): Promise<WebhookRetryReport> {
  const now = deps.clock.now();
  const until = new Date(now.getTime() + WEBHOOK_LEASE_MS).toISOString();
  const report: WebhookRetryReport = { due: 0, delivered: 0, failed: 0, gaveUp: 0, lost: 0, deferred: 0 };
  const swept = await sweepDueIndex(
    { shards: deps.webhooks.shards, listDue: (shard, upTo, limit) => deps.webhooks.listDueDeliveries(shard, upTo, limit) },
    async (ref: DueDelivery) => {
      const delivery = await deps.webhooks.claimDelivery(ref, until);
      if (!delivery) {
        report.lost++;
        return;
      }
      const settled = await attemptDelivery(deps, delivery, until);
      if (settled.state === "delivered") report.delivered++;
      else if (settled.state === "failed") report.gaveUp++;
      else report.failed++;
    },
    {
      upTo: now.toISOString(),
      batch: options.batch ?? 50,
      shardWorkers: 4,
      itemsPerShard: 4,
      // An attempt may wait for its whole timeout.
      itemBudgetMs: WEBHOOK_TIMEOUT_MS + 1_000,
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      onError: (ref, error) => deps.log?.warn("webhook delivery not settled; it is due again after its lease", { endpoint: ref.endpointId, delivery: ref.deliveryId, error: String(error) }),
      onShardError: (shard, error) => deps.log?.warn("webhook shard not read; it is read again next run", { shard, error: String(error) }),
    },
  );
  report.due = swept.due;
  report.deferred = swept.deferred;
  return report;
}

/** What an admin sees per endpoint: its subscription, whether this stage can reach it, and its latest deliveries. */
export async function webhookStatus(deps: Pick<WebhookDeps, "config" | "webhooks"> & { configured?: (id: string) => boolean }, limit = 20) {
  return Promise.all(
    (deps.config.webhooks?.endpoints ?? []).map(async (endpoint) => ({
      id: endpoint.id,
      events: endpoint.events,
      ...(endpoint.filter ? { filter: endpoint.filter } : {}),
      ...(deps.configured ? { configured: deps.configured(endpoint.id) } : {}),
      deliveries: (await deps.webhooks.listRecentDeliveries(endpoint.id, limit)).map(({ body: _body, ...rest }) => rest),
    })),
  );
}

/**
 * Each endpoint's URL and signing key from its variables (locally the environment, in AWS its SST
 * secrets). An endpoint whose variables are unset is left out and named in `missing`; a URL that
 * is not http(s) or a key shorter than 32 characters is a mistake and throws, naming the variable.
 */
export function resolveWebhookTargets(
  endpoints: readonly WebhookEndpoint[],
  lookup: (name: string) => string | undefined,
): { targets: Record<string, WebhookTarget>; missing: string[] } {
  const targets: Record<string, WebhookTarget> = {};
  const missing: string[] = [];
  const problems: string[] = [];
  for (const endpoint of endpoints) {
    const url = lookup(endpoint.urlEnv)?.trim();
    const secret = lookup(endpoint.secretEnv)?.trim();
    if (!url || !secret || url === "none") {
      missing.push(endpoint.id);
      continue;
    }
    if (!URL.canParse(url) || !["https:", "http:"].includes(new URL(url).protocol)) problems.push(`${endpoint.urlEnv} is not an http(s) URL`);
    else if (secret.length < 32) problems.push(`${endpoint.secretEnv} is shorter than 32 characters (generate one with openssl rand -base64 32)`);
    else targets[endpoint.id] = { url, secret };
  }
  if (problems.length > 0) throw new Error(`Webhook secrets are not usable: ${problems.join("; ")}.`);
  return { targets, missing };
}

/** Every variable (secret) name the endpoints read, sorted. */
export function webhookSecretNames(endpoints: readonly WebhookEndpoint[]): string[] {
  return [...new Set(endpoints.flatMap((e) => [e.urlEnv, e.secretEnv]))].sort();
}
