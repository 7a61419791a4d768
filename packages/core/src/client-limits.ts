/**
 * Per-client limits that hold across Lambda containers: each client key (an IPv4 address, an
 * IPv6 /64, an email address) gets a fixed window counted in a shared store, so N containers or a
 * cold start do not multiply or reset what one client may send. The in-container token bucket
 * stays in front of it as the first, free line; this is the line that holds.
 */
import { createHash } from "node:crypto";
import * as z from "./zod-mini";
import { normaliseEmail } from "./lead";

/** A limit of `limit` requests per `windowSeconds`, per client key. */
export const WindowLimit = z.strictObject({
  limit: z.number().check(z.int(), z.positive()),
  windowSeconds: z.number().check(z.int(), z.positive()),
});
export type WindowLimit = z.infer<typeof WindowLimit>;

/** What a deployment allows when it says nothing else; infra/README.md prices them. */
export const DEFAULT_CLIENT_LIMITS = {
  /** A person submits a form a few times a minute at most; an office behind one address, more. */
  capture: { limit: 30, windowSeconds: 60 },
  /** The same address resubmitted from many places is a list being replayed, not a person. */
  captureEmail: { limit: 10, windowSeconds: 600 },
  /** Page views come oftener than form posts. */
  events: { limit: 300, windowSeconds: 60 },
} as const satisfies Record<string, WindowLimit>;

/** Each route family's window, as the stack hands it to the API function (`CLIENT_LIMITS`, JSON). */
export const ClientLimitSettings = z.strictObject({ capture: WindowLimit, captureEmail: WindowLimit, events: WindowLimit });
export type ClientLimitSettings = z.infer<typeof ClientLimitSettings>;

/**
 * The shared counter: one conditional increment per key and store call. It counts hits only while
 * the window is below its limit, and the window's item expires by itself (TTL) after the window.
 */
export interface RateWindowStore {
  /**
   * Counts up to `count` hits in the window (a lease of that many requests) while it holds fewer
   * than `limit` hits; returns how many it granted, 0 when the window was already full.
   */
  hit(key: string, windowStartMs: number, limit: WindowLimit, count: number): Promise<number>;
}

/** The most requests one store call leases for one key: a block a container may leave unused is at most this. */
const MAX_LEASE = 64;

interface Lease {
  windowStart: number;
  /** Requests granted by the store for this window and not used yet, in this container. */
  left: number;
  /** How many the next store call asks for: 1 first, doubling while the key stays busy. */
  next: number;
  /** The store refused: the window is full for everyone until it ends. */
  full: boolean;
}

/**
 * What one container knows of the shared windows, so a busy key does not cost a store write per
 * request and a full window none at all. Every request let through was counted in the store
 * first (a lease is a block of hits counted at once), so across all containers a window still
 * lets through at most its limit; a container may hold part of a lease unused when the client's
 * next requests land elsewhere, so a client spread over containers may be refused up to
 * (lease − 1) per container sooner. Leases start at one request and double while a key keeps
 * coming, up to an eighth of the limit: a person's one submission costs one write as before, a
 * busy office or a flood from one address a write per block, and a full window is refused in the
 * container that saw it full without a write until the window ends.
 */
export class WindowLeases {
  readonly #leases = new Map<string, Lease>();

  /** Lets one request through from the local lease: true, false (the window is full), or undefined (ask the store). */
  take(key: string, windowStart: number): boolean | undefined {
    const lease = this.#leases.get(key);
    if (!lease || lease.windowStart !== windowStart) return undefined;
    if (lease.full) return false;
    if (lease.left === 0) return undefined;
    lease.left--;
    return true;
  }

  /** Whether the container holds a lease of the key's window: requests left, or the window known full. */
  holds(key: string, windowStart: number): boolean {
    const lease = this.#leases.get(key);
    return lease !== undefined && lease.windowStart === windowStart && (lease.full || lease.left > 0);
  }

  /** How many requests the next store call for the key leases. */
  ask(key: string, windowStart: number, limit: WindowLimit): number {
    const lease = this.#leases.get(key);
    const cap = Math.max(1, Math.min(MAX_LEASE, Math.floor(limit.limit / 8)));
    return lease && lease.windowStart === windowStart ? Math.min(cap, lease.next) : 1;
  }

  /**
   * Records what the store granted for `asked`: `used` of the granted requests (one, the request
   * being let through; none when the lease is taken ahead of its request, see primeClientLimit)
   * are spent, the rest are left for the container's next requests.
   */
  granted(key: string, windowStart: number, asked: number, granted: number, used = 1): void {
    const lease = this.#leases.get(key);
    const current = lease && lease.windowStart === windowStart ? lease : undefined;
    if (!current && this.#leases.size >= 10_000) this.#forgetEnded(windowStart);
    this.#leases.set(key, {
      windowStart,
      left: (current?.left ?? 0) + Math.max(0, granted - used),
      next: asked * 2,
      full: granted === 0,
    });
  }

  /** Drops the leases of windows that ended: a window's key never comes back once it ended. */
  #forgetEnded(now: number): void {
    for (const [key, lease] of this.#leases) if (lease.windowStart < now) this.#leases.delete(key);
  }
}

/**
 * A window counted inside the write it guards rather than before it: capture counts an email
 * address's window in the same transaction that stores the submission, so a refusal stores
 * nothing and an accepted submission costs no round trip of its own for it.
 */
export interface CountedWindow {
  /** `<scope>#<kind>#<value>`, as checkClientLimits names a key's window. */
  key: string;
  windowStartMs: number;
  limit: WindowLimit;
}

/** The store refused a write because its counted window (CountedWindow) is full. */
export class WindowFullError extends Error {
  override readonly name = "WindowFullError";
  constructor(readonly window: CountedWindow) {
    super(`The window ${window.key} holds its limit of ${window.limit.limit} requests.`);
  }
}

/** The window a key is counted in now, and how long until it ends. */
export function windowOf(rule: ClientLimitRule, key: ClientKey, nowMs: number): CountedWindow & { retryAfterSeconds: number } {
  const windowMs = rule.limit.windowSeconds * 1000;
  const windowStartMs = Math.floor(nowMs / windowMs) * windowMs;
  return {
    key: `${rule.scope}#${key.kind}#${key.value}`,
    windowStartMs,
    limit: rule.limit,
    retryAfterSeconds: Math.max(1, Math.ceil((windowStartMs + windowMs - nowMs) / 1000)),
  };
}

/** What a client's keys are limited by, per route family (`capture`, `events`). */
export interface ClientLimitRule {
  scope: string;
  limit: WindowLimit;
}

export interface ClientKey {
  kind: "ip" | "email";
  value: string;
}

/**
 * The key an address is counted under. IPv6 clients are handed a /64 each, so a flood from one
 * network is counted as one client (they could rotate through 2^64 addresses otherwise); an
 * IPv4-mapped IPv6 address is its IPv4 address.
 */
export function ipKey(address: string): ClientKey {
  const ip = address.trim().toLowerCase().replace(/^\[|\]$/g, "").split("%")[0] ?? "";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) return { kind: "ip", value: mapped[1]! };
  if (!ip.includes(":")) return { kind: "ip", value: ip || "unknown" };
  const [head = "", tail = ""] = ip.split("::");
  const left = head ? head.split(":") : [];
  const right = ip.includes("::") && tail ? tail.split(":") : [];
  // An embedded IPv4 tail (::1.2.3.4) takes two groups; it lies past the /64 either way.
  const missing = Math.max(0, 8 - left.length - right.length);
  const groups = ip.includes("::") ? [...left, ...Array<string>(missing).fill("0"), ...right] : left;
  const prefix = groups.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16));
  return { kind: "ip", value: `${prefix.join(":")}::/64` };
}

/** An address is counted under a hash: the store never holds the address itself. */
export function emailKey(email: string): ClientKey {
  return { kind: "email", value: createHash("sha256").update(normaliseEmail(email)).digest("base64url").slice(0, 22) };
}

export interface ClientLimitDeps {
  windows: RateWindowStore;
  /** Real time: limits are about how fast a client sends, not the virtual clock's nurture time. */
  nowMs: () => number;
  log?: { warn(message: string, extra?: Record<string, unknown>): void };
}

/**
 * Counts one request for each key under its rule; returns, per check, 0 when the key is within its
 * window, else the seconds until its window ends. The keys' windows are counted concurrently (one
 * store round trip, none for a key the container holds a lease of). A store that cannot be
 * reached lets the request through (logged): losing leads to an outage of the limiter is worse
 * than a minute unlimited, and the route's own API Gateway throttle still caps the whole.
 */
export async function checkClientLimits(
  deps: ClientLimitDeps,
  checks: readonly { rule: ClientLimitRule; key: ClientKey }[],
  leases: WindowLeases,
): Promise<number[]> {
  const now = deps.nowMs();
  return Promise.all(
    checks.map(async ({ rule, key }) => {
      const { key: id, windowStartMs: windowStart, retryAfterSeconds } = windowOf(rule, key, now);
      let allowed = leases.take(id, windowStart);
      if (allowed === undefined) {
        const asked = leases.ask(id, windowStart, rule.limit);
        try {
          const granted = await deps.windows.hit(id, windowStart, rule.limit, asked);
          leases.granted(id, windowStart, asked, granted);
          allowed = granted > 0;
        } catch (error) {
          deps.log?.warn("client limit not checked: the window store failed", { scope: rule.scope, kind: key.kind, error: (error as Error).name });
          allowed = true;
        }
      }
      return allowed ? 0 : retryAfterSeconds;
    }),
  );
}

/**
 * Takes a key's lease from the store ahead of the request it is for, so the store's round trip
 * runs while the request is still being prepared (a cold API function reads its secrets
 * meanwhile); the request's checkClientLimits then spends it without a round trip, or is refused
 * by it. The store counts the hit now, as a lease: a request that never gets that far leaves it
 * to the container's next one, as a lease's unused rest always is. Nothing is asked when the
 * container already holds a lease of the key's window; a store failure leaves the request to ask
 * again itself.
 */
export async function primeClientLimit(deps: ClientLimitDeps, check: { rule: ClientLimitRule; key: ClientKey }, leases: WindowLeases): Promise<void> {
  const { key: id, windowStartMs: windowStart } = windowOf(check.rule, check.key, deps.nowMs());
  if (leases.holds(id, windowStart)) return;
  const asked = leases.ask(id, windowStart, check.rule.limit);
  try {
    leases.granted(id, windowStart, asked, await deps.windows.hit(id, windowStart, check.rule.limit, asked), 0);
  } catch {
    // The request's own check asks the store again, and logs if it fails again.
  }
}
