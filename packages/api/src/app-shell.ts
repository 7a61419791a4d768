/**
 * What every leadloop HTTP app shares, whichever routes it mounts: the page security headers,
 * the liveness route, RFC 9457 problems for unknown routes and errors, and the deps the public
 * routes take. The public app (public-app.ts), the staff app (staff-app.ts) and the local stack's
 * app with both (app.ts) are this shell around their routes.
 */
import type { NurtureDeps } from "@leadloop/core";
import { type Context, Hono } from "hono";
import type { SharedLimits, SubmissionLimits } from "./client-limit";
import { errorSummary } from "./error-log";
import { pageSecurity } from "./page-security";
import { HttpProblem, problemOf, problemResponse } from "./problem";
import type { RateLimit } from "./rate-limit";

export interface AppLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** What the routes a website and an email recipient reach take: capture, events, unsubscribe, confirm. */
export interface PublicAppDeps extends NurtureDeps {
  /** The caller's address as the platform saw it (never a client-supplied header). */
  clientIp: (c: Context) => string;
  /** The in-container token bucket per client address (the first, cheap line). */
  rateLimit?: RateLimit;
  /** "refuse" on production stages: forms' loopback origins (http://localhost:3000) may not post there. */
  localOrigins?: "allow" | "refuse";
  /** The per-client windows shared across containers; without them only the bucket limits. */
  sharedLimits?: SharedLimits;
  /** Capture's windows on `sharedLimits`, when made before the app (to start counting before the route runs); else the capture routes make them. */
  submissionLimits?: SubmissionLimits;
  log: AppLogger;
}

/** An app with the shell's middleware and liveness route, its routes mounted by `mount`, then its problem handlers. */
export function appShell(log: AppLogger, mount: (app: Hono) => void): Hono {
  const app = new Hono();
  app.use("*", pageSecurity());
  app.get("/health", (c) => c.json({ status: "ok" }));
  mount(app);
  app.notFound((c) =>
    problemResponse(c, new HttpProblem(404, "not-found", "Not found", `There is no ${c.req.method} ${new URL(c.req.url).pathname}.`)),
  );
  app.onError((error, c) => {
    const { problem } = problemOf(error);
    if (problem.status >= 500) log.error("request failed", { path: new URL(c.req.url).pathname, ...errorSummary(error) });
    return problemResponse(c, error);
  });
  return app;
}
