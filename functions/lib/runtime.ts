/**
 * What every leadloop function shares, built once per container: the parsed environment, the
 * marketers' config, the adapters pointed at this stage's table, bus and SES configuration set,
 * and one structured logger. A handler awaits `useRuntime()` on its first invocation: the bound
 * secrets are read then (functions/lib/bound-values.ts), not at import, and a container with a
 * broken environment fails that invocation loudly, naming the variable, instead of a lead quietly.
 * The functions that notify reps get their teams' Slack webhooks here (`useSlackWebhooks`), from
 * SST secrets; the bearer-token functions build their verifier in ./authenticator.ts.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import type { LeadloopConfig } from "@leadloop/core/config/schema";
import type { NurtureDeps } from "@leadloop/core/nurture/enroll";
import type { Mailer } from "@leadloop/core/ports";
import { NurtureSettings } from "@leadloop/core/nurture/nurture-settings";
import { systemClock } from "@leadloop/core/ports";
import { TokenSigner } from "@leadloop/core/tokens";
import { createEventBridgeClient, EventBridgePublisher } from "@leadloop/events/eventbridge-publisher";
import { createDocumentClient, DynamoLeadStore, DynamoNurtureStore, DynamoRewardsStore } from "@leadloop/store";
import { readBoundValues } from "./bound-values";
import { type Environment, parseEnvironment } from "./environment";
import { loggedMailer, loggedPublisher } from "./logged-ports";
import { LEADLOOP_SECRET_NAMES } from "./secret-names";
import { resolveSlackWebhooks, slackWebhookNames } from "./slack-webhooks";

export interface AppLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface Runtime {
  env: Environment;
  /**
   * The container's one DynamoDB client: every store of the function shares it and its
   * connections, so a cold start opens one TLS connection to DynamoDB, not one per store.
   */
  client: ReturnType<typeof createDocumentClient>;
  config: LeadloopConfig;
  deps: NurtureDeps;
  /** Powertools logger: JSON lines with the Lambda context and the lead's id as correlation id. */
  logger: Logger;
  /** The same logger behind the small interface the use cases and the hono app take. */
  log: AppLogger;
  /** The SST secrets and parameters bound to this function, by name; undefined when not bound. */
  bound: ConfigLookup;
}

/**
 * The config snapshot infra/config-snapshot.ts wrote at synth time (already validated there, so it
 * is not re-checked here). It ships beside the bundle rather than inside it: templates are
 * most of its size and only data, so the JavaScript stays small.
 */
export function readConfigSnapshot(file: string): LeadloopConfig {
  const path = isAbsolute(file) ? file : join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LeadloopConfig;
  } catch (error) {
    throw new Error(`The config snapshot ${path} could not be read; redeploy so the stacks ship it (${String(error)})`);
  }
}

export function toAppLogger(logger: Logger): AppLogger {
  return {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}

/**
 * How a function sends email, given its environment: the SES mailer (functions/lib/ses.ts) for
 * every function that sends, a refusal for the public API, which sends none and so does not
 * load the SES client at all.
 */
export type MailerFor = (env: Environment) => Mailer;

/** Reads an SST secret or parameter by name; undefined when it is not bound. */
export type ConfigLookup = (name: string) => string | undefined;

/**
 * What `parseEnvironment` reads: the plain environment, with the bound values read for the names
 * every function binds (the stack tests call this with SST's placeholders resolved).
 */
export function withConfigValues(source: Record<string, string | undefined>, lookup: ConfigLookup): Record<string, string | undefined> {
  return {
    ...source,
    SENDER: lookup("SENDER") ?? source.SENDER,
    TOKEN_SIGNING_KEY: lookup("TOKEN_SIGNING_KEY") ?? source.TOKEN_SIGNING_KEY,
    LEAD_ID_KEY: lookup("LEAD_ID_KEY") ?? source.LEAD_ID_KEY,
  };
}

export function createRuntime(source: Record<string, string | undefined>, lookup: ConfigLookup, mailerFor: MailerFor): Runtime {
  const env = parseEnvironment(withConfigValues(source, lookup));
  const logger = new Logger({ serviceName: source.POWERTOOLS_SERVICE_NAME ?? "leadloop" });
  const log = toAppLogger(logger);
  const config = readConfigSnapshot(env.CONFIG_FILE);
  const settings = NurtureSettings.parse({
    publicUrl: env.PUBLIC_URL,
    from: env.SENDER,
    ...(env.UNSUBSCRIBE_MAILTO ? { unsubscribeMailto: env.UNSUBSCRIBE_MAILTO } : {}),
    ...(env.MAX_SENDS_PER_SECOND ? { maxSendsPerSecond: env.MAX_SENDS_PER_SECOND } : {}),
  });
  const client = containerClient();
  const deps: NurtureDeps = {
    config,
    leads: new DynamoLeadStore({ client, tableName: env.TABLE_NAME, leadIdKey: env.LEAD_ID_KEY }),
    nurture: new DynamoNurtureStore({ client, tableName: env.TABLE_NAME }),
    mailer: loggedMailer(mailerFor(env), log),
    publisher: loggedPublisher(new EventBridgePublisher(createEventBridgeClient(), env.EVENT_BUS_NAME), log),
    clock: systemClock,
    settings,
    signer: new TokenSigner(env.TOKEN_SIGNING_KEY),
    log,
    points: new DynamoRewardsStore({ client, tableName: env.TABLE_NAME }),
  };
  return { env, client, config, deps, logger, log, bound: lookup };
}

let documentClient: ReturnType<typeof createDocumentClient> | undefined;

/**
 * The container's one DynamoDB client, made on first use: the runtime's, and the one the public
 * API starts its first round trip with before the runtime exists (./http-api.ts). It needs no
 * secret (the role's credentials are in the environment).
 */
export function containerClient(): ReturnType<typeof createDocumentClient> {
  documentClient ??= createDocumentClient();
  return documentClient;
}

let runtime: Promise<Runtime> | undefined;

/**
 * The container's runtime, created on first use and kept for every later invocation. A first use
 * that fails (SSM unreachable, a secret not set) is not kept: the next invocation tries again.
 */
export function useRuntime(mailerFor: MailerFor, source: Record<string, string | undefined> = process.env): Promise<Runtime> {
  runtime ??= readBoundValues(source).then(
    (values) => createRuntime(source, (name) => values[name], mailerFor),
    (error: unknown) => {
      runtime = undefined;
      throw error;
    },
  );
  return runtime;
}

/**
 * Starts an invocation's log context: the Lambda request, and the lead's id when the event names
 * one, so `leadId = "…"` in CloudWatch Logs Insights follows a lead from capture through
 * enrollment, sends and hand-off. Keys of the previous invocation are dropped first.
 */
export function beginInvocation(logger: Logger, context: unknown, leadId?: string): void {
  logger.resetKeys();
  if (context && typeof context === "object" && "awsRequestId" in context) {
    logger.addContext(context as Parameters<Logger["addContext"]>[0]);
  }
  if (leadId) logger.appendKeys({ leadId });
}

let slackWebhooks: Record<string, string> | undefined;

/** Each team's Slack webhook URL by its variable's name, from the SST secrets of that name. */
export function useSlackWebhooks(runtime: Runtime): Record<string, string> {
  slackWebhooks ??= resolveSlackWebhooks(slackWebhookNames(runtime.config.teams.teams, LEADLOOP_SECRET_NAMES), runtime.bound);
  return slackWebhooks;
}
