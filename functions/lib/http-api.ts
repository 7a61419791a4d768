/**
 * What the two HTTP functions share (functions/api.ts, the public routes; functions/staff-api.ts,
 * the bearer-token routes): the client's address as API Gateway saw it, the per-client limits,
 * and a handler that builds its app on the first request (when the bound secrets are read) and
 * keeps it for the container's life.
 */
import { clientLimitsFromEnv } from "@leadloop/api/client-limit";
import type { PublicAppDeps } from "@leadloop/api/app-shell";
import { DynamoRateWindows } from "@leadloop/store/dynamo-rate-windows";
import type { Context, Hono } from "hono";
import { handle } from "hono/aws-lambda";
import { beginInvocation, type MailerFor, type Runtime, useRuntime } from "./runtime";

interface LambdaBindings {
  requestContext?: { requestId?: string; http?: { sourceIp?: string } };
}

/** The client's address is the one API Gateway saw (`requestContext.http.sourceIp`), never a header the client can set. */
export function sourceIp(c: Context): string {
  return (c.env as LambdaBindings | undefined)?.requestContext?.http?.sourceIp ?? "unknown";
}

/** The deps every HTTP function's app takes, from the container's runtime. */
export function publicAppDeps(runtime: Runtime): PublicAppDeps {
  const { env } = runtime;
  const rateLimit =
    env.RATE_LIMIT_BURST && env.RATE_LIMIT_PER_SECOND ? { burst: env.RATE_LIMIT_BURST, perSecond: env.RATE_LIMIT_PER_SECOND } : undefined;
  // The same windows and store the local stack runs (packages/api/src/client-limit.ts); the stack
  // sets CLIENT_LIMITS, and API Gateway's per-route throttles cap each route family as a whole.
  const sharedLimits = {
    ...clientLimitsFromEnv(process.env.CLIENT_LIMITS),
    windows: new DynamoRateWindows({ client: runtime.client, tableName: env.TABLE_NAME }),
    nowMs: () => Date.now(),
    log: runtime.log,
  };
  return {
    ...runtime.deps,
    log: runtime.log,
    clientIp: sourceIp,
    sharedLimits,
    localOrigins: process.env.LEADLOOP_LOCAL_ORIGINS === "refuse" ? "refuse" : "allow",
    ...(rateLimit ? { rateLimit } : {}),
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
