/**
 * The per-client rate limit of a public route, as one middleware: first the in-container token
 * bucket (free, catches a flood at the door of a warm container), then the shared window in the
 * store (holds across containers and cold starts). Over either, 429 problem+json with Retry-After.
 */
import { ClientLimitSettings, type ClientLimitDeps, checkClientLimits, type CountedWindow, DEFAULT_CLIENT_LIMITS, emailKey, ipKey, primeClientLimit, WindowLeases, windowOf } from "@leadloop/core";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { HttpProblem } from "./problem";
import { type RateLimit, RateLimiter } from "./rate-limit";

/** The shared windows: the store and each route family's limit per client key. */
export interface SharedLimits extends ClientLimitDeps, ClientLimitSettings {}

/** The windows from the `CLIENT_LIMITS` variable (the defaults when unset); a bad value names the variable and the field. */
export function clientLimitsFromEnv(value: string | undefined): ClientLimitSettings {
  if (value === undefined || value === "") return DEFAULT_CLIENT_LIMITS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`CLIENT_LIMITS is not JSON; write e.g. ${JSON.stringify(DEFAULT_CLIENT_LIMITS)}.`);
  }
  const result = ClientLimitSettings.safeParse(parsed);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new Error(`CLIENT_LIMITS.${issue?.path.join(".")}: ${issue?.message}; write e.g. ${JSON.stringify(DEFAULT_CLIENT_LIMITS)}.`);
}

export interface ClientLimitOptions {
  /** The route family, also the prefix of its shared window keys. */
  scope: "capture" | "events";
  /** What the client sent too many of, for the problem's wording ("submissions", "events"). */
  what: string;
  local: RateLimit;
  shared?: SharedLimits | undefined;
  clientIp: (c: Context) => string;
  /**
   * The route counts the shared window itself, beside its other keys (capture counts the client's
   * address and the submitted email address in one round trip, once the body is read).
   */
  sharedInRoute?: boolean;
  /** The CORS headers a refusal carries, so a page's script can read the 429. */
  cors?: (c: Context) => Record<string, string>;
}

export function rateLimited(what: string, waitSeconds: number, headers: Record<string, string> = {}, by = "your address"): HttpProblem {
  return new HttpProblem(429, "rate-limited", `Too many ${what}`, `Too many ${what} from ${by}. Try again in ${waitSeconds} seconds.`, {
    "retry-after": String(waitSeconds),
    ...headers,
  });
}

export function clientLimit(options: ClientLimitOptions) {
  const bucket = new RateLimiter(options.local);
  // This container's leases of the shared windows (per container, as the bucket is).
  const leases = new WindowLeases();
  const { shared } = options;
  return createMiddleware(async (c, next) => {
    const key = ipKey(options.clientIp(c));
    const local = bucket.take(key.value, Date.now());
    const [wait = 0] =
      local > 0 ? [local] : shared && !options.sharedInRoute ? await checkClientLimits(shared, [{ rule: { scope: options.scope, limit: shared[options.scope] }, key }], leases) : [];
    if (wait > 0) throw rateLimited(options.what, wait, options.cors?.(c) ?? {});
    await next();
  });
}

/** Capture's shared windows for one submission (see submissionLimits). */
export interface SubmissionLimits {
  (ip: string, email: unknown, headers: Record<string, string>): Promise<{ window: CountedWindow; full(): HttpProblem } | undefined>;
  /**
   * Counts the address's window ahead of the submission, before its route runs: a cold API
   * function starts it while its secrets are read (functions/lib/http-api.ts), so the round trip
   * costs the first submission nothing. The submission then spends that lease, or is refused by it.
   */
  prime(ip: string): void;
}

/**
 * Capture's shared windows, once the body has been read: the client's address is counted here
 * (leased, see WindowLeases), and the submitted email address's window (one address resubmitted
 * from many networks is limited too) is handed to the capture, which counts it in the same write
 * that stores the submission, so an accepted submission spends no round trip on it and a refused
 * one stores nothing. A window this container saw full is refused here, before anything else.
 */
export function submissionLimits(shared: SharedLimits | undefined): SubmissionLimits {
  const leases = new WindowLeases();
  const emailsFull = new WindowLeases();
  let primed: Promise<void> | undefined;
  const limits = async (ip: string, email: unknown, headers: Record<string, string>) => {
    if (!shared) return undefined;
    // A lease taken ahead for this container (prime) is in `leases` once its round trip is back.
    await primed;
    const [byAddress = 0] = await checkClientLimits(shared, [{ rule: { scope: "capture", limit: shared.capture }, key: ipKey(ip) }], leases);
    if (byAddress > 0) throw rateLimited("submissions", byAddress, headers);
    if (typeof email !== "string" || !email.includes("@")) return undefined;
    const { retryAfterSeconds, ...window } = windowOf({ scope: "capture", limit: shared.captureEmail }, emailKey(email), shared.nowMs());
    const refused = () => rateLimited("submissions", retryAfterSeconds, headers, "this email address");
    if (emailsFull.take(window.key, window.windowStartMs) === false) throw refused();
    return {
      window,
      /** The store found the window full: remember it for the window's rest, and say so. */
      full(): HttpProblem {
        emailsFull.granted(window.key, window.windowStartMs, 1, 0);
        return refused();
      },
    };
  };
  return Object.assign(limits, {
    prime(ip: string) {
      if (shared) primed = primeClientLimit(shared, { rule: { scope: "capture", limit: shared.capture }, key: ipKey(ip) }, leases);
    },
  });
}
