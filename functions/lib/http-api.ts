/**
 * What the two HTTP functions share (functions/api.ts, the public routes; functions/staff-api.ts,
 * the bearer-token routes): the client's address as API Gateway saw it, the per-client limits,
 * and a handler that builds its app on the first request (when the bound secrets are read) and
 * keeps it for the container's life.
 */
import { clientLimitsFromEnv, type SharedLimits, type SubmissionLimits, submissionLimits } from "@leadloop/api/client-limit";
import type { PublicAppDeps } from "@leadloop/api/app-shell";
import { DynamoRateWindows } from "@leadloop/store/dynamo-rate-windows";
import type { Context, Hono } from "hono";
import { handle } from "hono/aws-lambda";
import { type AppLogger, beginInvocation, containerClient, type MailerFor, type Runtime, useRuntime } from "./runtime";

interface LambdaBindings {
  requestContext?: { requestId?: string; http?: { sourceIp?: string } };
}

/** The client's address is the one API Gateway saw (`requestContext.http.sourceIp`), never a header the client can set. */
export function sourceIp(c: Context): string {
  return (c.env as LambdaBindings | undefined)?.requestContext?.http?.sourceIp ?? "unknown";
}

/**
 * The per-client windows shared across containers: the same windows and store the local stack
 * runs (packages/api/src/client-limit.ts); the stack sets CLIENT_LIMITS, and API Gateway's
 * per-route throttles cap each route family as a whole. They need no secret, so the public API
 * makes them before its secrets are read (see httpHandler's `early`).
 */
export function sharedLimitsOf(tableName: string, log: SharedLimits["log"]): SharedLimits {
  return {
    ...clientLimitsFromEnv(process.env.CLIENT_LIMITS),
    windows: new DynamoRateWindows({ client: containerClient(), tableName }),
    nowMs: () => Date.now(),
    ...(log ? { log } : {}),
  };
}

/** Capture's windows, made before the runtime so the first submission's address is counted while the secrets are read. */
export interface EarlyLimits {
  shared: SharedLimits;
  submissions: SubmissionLimits;
}

/** The deps every HTTP function's app takes, from the container's runtime (and the public API's windows made before it). */
export function publicAppDeps(runtime: Runtime, early?: EarlyLimits): PublicAppDeps {
  const { env } = runtime;
  const rateLimit =
    env.RATE_LIMIT_BURST && env.RATE_LIMIT_PER_SECOND ? { burst: env.RATE_LIMIT_BURST, perSecond: env.RATE_LIMIT_PER_SECOND } : undefined;
  return {
    ...runtime.deps,
    log: runtime.log,
    clientIp: sourceIp,
    sharedLimits: early?.shared ?? sharedLimitsOf(env.TABLE_NAME, runtime.log),
    ...(early ? { submissionLimits: early.submissions } : {}),
    localOrigins: process.env.LEADLOOP_LOCAL_ORIGINS === "refuse" ? "refuse" : "allow",
    ...(rateLimit ? { rateLimit } : {}),
  };
}

/** A form submission, as API Gateway names its route. */
const CAPTURE_ROUTE = "POST /v1/forms/{formId}/submissions";

/**
 * The public API's handler: the first request of a cold container that is a form submission
 * starts counting its address's window (one DynamoDB round trip, which also opens the client's
 * connection) before the secrets are read, so the two round trips overlap instead of adding up.
 * The route then spends that count (client-limit.ts, `prime`): a refused address still stores
 * nothing and gets its 429.
 */
export function publicHttpHandler(build: (runtime: Runtime, early: EarlyLimits | undefined) => Hono): Served {
  let early: EarlyLimits | undefined;
  let runtimeLog: AppLogger | undefined;
  const serve = httpHandler((runtime) => {
    runtimeLog = runtime.log;
    return build(runtime, early);
  }, noMailer);
  return async (event, context) => {
    const request = event as LambdaBindings & { routeKey?: string };
    // Only before the app is built: an app built without these windows would count the address again.
    if (!early && !runtimeLog && request.routeKey === CAPTURE_ROUTE && process.env.TABLE_NAME) {
      // A CLIENT_LIMITS the app would refuse is reported by the app, as before: nothing starts early.
      try {
        const shared = sharedLimitsOf(process.env.TABLE_NAME, { warn: (message, extra) => runtimeLog?.warn(message, extra) });
        early = { shared, submissions: submissionLimits(shared) };
        early.submissions.prime(request.requestContext?.http?.sourceIp ?? "unknown");
      } catch {
        early = undefined;
      }
    }
    return serve(event, context);
  };
}

type Served = ReturnType<typeof handle>;

/** No public route sends email (the enroll handler sends the double opt-in confirmation), and the function's role may not. */
export class NoEmailFromPublicApiError extends Error {
  override readonly name = "NoEmailFromPublicApiError";
  constructor() {
    super("The public API function sends no email and its role may not: a route that sends belongs in the staff API (functions/staff-api.ts) or a bus handler.");
  }
}

/** The public API's mailer: a refusal, so the function loads no SES client. */
export const noMailer: MailerFor = () => ({
  send: async () => {
    throw new NoEmailFromPublicApiError();
  },
});

/** A Lambda handler for API Gateway (HTTP API, payload 2.0) serving the app `build` makes on the first request. */
export function httpHandler(build: (runtime: Runtime) => Hono, mailerFor: MailerFor): Served {
  let ready: Promise<{ runtime: Runtime; served: Served }> | undefined;
  return async (event, context) => {
    // A first request that could not build the app (a secret not set) is not kept: the next one retries.
    ready ??= useRuntime(mailerFor).then(
      (runtime) => ({ runtime, served: handle(build(runtime)) }),
      (error: unknown) => {
        ready = undefined;
        throw error;
      },
    );
    const { runtime, served } = await ready;
    beginInvocation(runtime.logger, context);
    // The lead's id is not known until capture has run; its "event published" line carries it, and
    // the request id ties that line to this request's other lines.
    runtime.logger.appendKeys({ requestId: (event as LambdaBindings).requestContext?.requestId });
    return served(event, context);
  };
}
