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
 * The shared counter: one conditional increment per key and request. It counts the hit only while
 * the window is below its limit, and the window's item expires by itself (TTL) after the window.
 */
export interface RateWindowStore {
  /** Counts one hit in the window; false when the window already holds `limit` hits. */
  hit(key: string, windowStartMs: number, limit: WindowLimit): Promise<boolean>;
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
 * Counts one request for each key under the rule; returns 0 when every key is within its window,
 * else the seconds until the fullest window ends. A store that cannot be reached lets the request
 * through (logged): losing leads to an outage of the limiter is worse than a minute unlimited,
 * and the route's own API Gateway throttle still caps the whole.
 */
export async function checkClientLimits(deps: ClientLimitDeps, rule: ClientLimitRule, clientKeys: readonly ClientKey[]): Promise<number> {
  const now = deps.nowMs();
  const windowMs = rule.limit.windowSeconds * 1000;
  const windowStart = Math.floor(now / windowMs) * windowMs;
  const results = await Promise.all(
    clientKeys.map(async (key) => {
      try {
        return await deps.windows.hit(`${rule.scope}#${key.kind}#${key.value}`, windowStart, rule.limit);
      } catch (error) {
        deps.log?.warn("client limit not checked: the window store failed", { scope: rule.scope, kind: key.kind, error: (error as Error).name });
        return true;
      }
    }),
  );
  if (results.every(Boolean)) return 0;
  return Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000));
}
