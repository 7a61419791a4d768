/**
 * The local stack: the same handlers and adapters as in AWS, pointed at local engines. DynamoDB
 * Local and the SES v2 emulator run as child processes, the bus in process, time on a virtual
 * clock. `npm start` runs it; the end-to-end tests start it the same way.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type AppLogger, createApp, createAuthenticator, type RateLimit } from "@leadloop/api";
import {
  AuthSettings,
  applyOutcome,
  type FeedbackDeps,
  recycleDueLeads,
  allRules,
  checkClaimSlas,
  handOff,
  retryNotifications,
  settleConfirmations,
  type SalesDeps,
  type SalesStore,
  enrollLead,
  exitEnrollments,
  recordReportEvent,
  handleEngagementEvent,
  type EventPublisher,
  type LeadloopConfig,
  type LeadStore,
  loadConfigOrThrow,
  type Mailer,
  type NurtureDeps,
  NurtureSettings,
  type NurtureStore,
  republishEvents,
  republishPending,
  republishQualifications,
  type RoutingRule,
  sweepDueSteps,
  TokenSigner,
} from "@leadloop/core";
import { type BusHandler, LocalBus } from "@leadloop/events";
import { createSesClient, SesMailer, SlackWebhookNotifier } from "@leadloop/mailer";
import { createDocumentClient, DynamoFeedbackStore, DynamoLeadRecords, DynamoLeadStore, DynamoNurtureStore, DynamoReportStore, DynamoRewardsStore, DynamoSalesStore, ensureTable } from "@leadloop/store";
import type { SESv2Client } from "@aws-sdk/client-sesv2";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { serve } from "@hono/node-server";
import type { Context } from "hono";
import { consoleLogger } from "./console-logger";
import { devRoutes } from "./dev-routes";
import { startDynamoDbLocal, startSesLocal } from "./engines";
import { localAuthSecret } from "./local-secrets";
import { TagRememberingMailer } from "./ses-event-injector";
import { VirtualClock } from "./virtual-clock";

/** The configuration set the local mailer names; SES-shaped events carry it as SES's would. */
const LOCAL_CONFIGURATION_SET = "leadloop-local";

export interface LocalStackOptions {
  /** HTTP port; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Where DynamoDB data, the clock, the local signing key and lead-id key live; omit to keep all in memory. */
  dataDir?: string;
  /** Use an already running DynamoDB Local / SES emulator instead of starting one. */
  dynamoEndpoint?: string;
  sesEndpoint?: string;
  tableName?: string;
  configDir?: string;
  rateLimit?: RateLimit;
  /** How often the periodic jobs run (sweeper, republisher), in real milliseconds. */
  tickEveryMs?: number;
  /** Sender of every email; defaults to the example company's. */
  sender?: string;
  logLevel?: "info" | "warn" | "error" | "silent";
  /** Keep the forms' real thank-you URLs instead of the local /thanks page. */
  keepThankYouUrls?: boolean;
  /** Where team Slack webhook variables (`slackWebhookEnv`) are read; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /**
   * Decorates the adapters the use cases and the API get (fault injection, counting). The stack's
   * own `store`, `nurture` and `sales` fields stay the bare adapters, for tests to inspect.
   */
  wrapAdapters?: (adapters: StackAdapters) => Partial<StackAdapters>;
  /** First pause before the bus redelivers to a failed handler (doubling each time); default 50 ms. */
  busRetryDelayMs?: number;
  /** Sees the SDK clients once built, e.g. to add middleware that counts requests. */
  instrumentClients?: (clients: StackClients) => void;
}

/** The ports the use cases run on; `wrapAdapters` may replace any of them. */
export interface StackAdapters {
  leads: LeadStore;
  nurture: NurtureStore;
  sales: SalesStore;
  mailer: Mailer;
  publisher: EventPublisher;
}

export interface StackClients {
  dynamo: DynamoDBDocumentClient;
  ses: SESv2Client;
}

export interface LocalStack {
  url: string;
  port: number;
  dynamoEndpoint: string;
  sesEndpoint: string;
  tableName: string;
  config: LeadloopConfig;
  clock: VirtualClock;
  bus: LocalBus;
  store: DynamoLeadStore;
  nurture: DynamoNurtureStore;
  deps: NurtureDeps;
  sales: DynamoSalesStore;
  salesDeps: SalesDeps;
  reports: DynamoReportStore;
  feedback: DynamoFeedbackStore;
  rewards: DynamoRewardsStore;
  signer: TokenSigner;
  /** The HS256 secret bearer tokens are verified with (`npm run token` signs with the same). */
  authSecret: string;
  log: AppLogger;
  /** Runs the periodic jobs once (republisher; later the sweeper and SLA checks). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

function localSigningKey(dataDir: string | undefined): string {
  if (process.env.LEADLOOP_SIGNING_KEY) return process.env.LEADLOOP_SIGNING_KEY;
  if (!dataDir) return randomBytes(32).toString("base64url");
  const file = join(dataDir, "signing-key");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const key = randomBytes(32).toString("base64url");
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}

/**
 * The key lead ids are derived with: `LEADLOOP_LEAD_ID_KEY`, else `<dataDir>/lead-id-key` written
 * once. It must outlive the data: a new key would give every known address a new lead id.
 */
function localLeadIdKey(dataDir: string | undefined): string {
  if (process.env.LEADLOOP_LEAD_ID_KEY) return process.env.LEADLOOP_LEAD_ID_KEY;
  if (!dataDir) return randomBytes(32).toString("base64url");
  const file = join(dataDir, "lead-id-key");
  try {
    // "wx": of two stacks starting on one data folder, the first key written wins for both.
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return readFileSync(file, "utf8").trim();
}

/** The caller's address from the socket (node:http), never from a header a client can set. */
function socketIp(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? "unknown";
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = consoleLogger(options.logLevel ?? "info");
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    if (options.dataDir) mkdirSync(join(options.dataDir, "dynamodb"), { recursive: true });
    const config = loadConfigOrThrow(options.configDir ?? "config");

    let dynamoEndpoint = options.dynamoEndpoint;
    if (!dynamoEndpoint) {
      const ddb = await startDynamoDbLocal(options.dataDir ? { dbPath: join(options.dataDir, "dynamodb") } : {});
      stops.push(ddb.stop);
      dynamoEndpoint = ddb.endpoint;
    }
    let sesEndpoint = options.sesEndpoint;
    if (!sesEndpoint) {
      const ses = await startSesLocal({});
      stops.push(ses.stop);
      sesEndpoint = ses.endpoint;
    }

    const tableName = options.tableName ?? "leadloop";
    const localCredentials = { region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } };
    const client = createDocumentClient({ endpoint: dynamoEndpoint, ...localCredentials });
    await ensureTable(client, tableName);
    const store = new DynamoLeadStore({ client, tableName, leadIdKey: localLeadIdKey(options.dataDir) });
    const nurture = new DynamoNurtureStore({ client, tableName });
    const sales = new DynamoSalesStore({ client, tableName });
    const reports = new DynamoReportStore({ client, tableName });
    const sesClient = createSesClient({ endpoint: sesEndpoint });
    options.instrumentClients?.({ dynamo: client, ses: sesClient });
    const bareMailer = new TagRememberingMailer(new SesMailer({ client: sesClient, configurationSet: LOCAL_CONFIGURATION_SET }));
    const clock = new VirtualClock(options.dataDir ? join(options.dataDir, "clock.json") : undefined);
    const signer = new TokenSigner(localSigningKey(options.dataDir));

    const handlers: Partial<Record<string, BusHandler>> = {};
    const bus = new LocalBus({
      rules: allRules(config),
      handlers,
      clock,
      // A capture announces a new lead just before storing it; enrollment retries until it is
      // stored, so give it seconds, not the default's 0.75 s (EventBridge allows minutes).
      attempts: 8,
      ...(options.busRetryDelayMs !== undefined ? { retryDelayMs: options.busRetryDelayMs } : {}),
      onDeadLetter: (letter) => log.error("event dead-lettered", { rule: letter.rule, error: letter.error }),
    });
    stops.push(async () => {
      await Promise.race([bus.drain(), new Promise((r) => setTimeout(r, 2000))]);
      bus.stop();
    });

    // The public URL is known once the server listens; links in emails point at it.
    const listenPort = options.port ?? 3000;
    const host = options.host ?? "127.0.0.1";
    const settings: NurtureSettings = NurtureSettings.parse({
      publicUrl: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${listenPort || 1}`,
      from: options.sender ?? process.env.LEADLOOP_SENDER ?? "Acme Analytics <hello@acme-analytics.example>",
      maxSendsPerSecond: 200,
    });
    const bare: StackAdapters = { leads: store, nurture, sales, mailer: bareMailer, publisher: bus };
    const ports: StackAdapters = { ...bare, ...options.wrapAdapters?.(bare) };
    const { leads, mailer, publisher } = ports;
    const deps: NurtureDeps = { config, leads, nurture: ports.nurture, mailer, publisher, clock, settings, signer, log };
    const leadIdOf = (detail: unknown) => String((detail as { leadId?: unknown }).leadId ?? "");
    handlers.enroll = async (event, rule: RoutingRule) => {
      if (rule.target !== "enroll") return;
      await enrollLead(deps, { leadId: leadIdOf(event.detail), sequenceId: rule.sequenceId, eventTime: event.time });
    };
    const chat = new SlackWebhookNotifier({ env: options.env ?? process.env });
    const salesDeps: SalesDeps = { config, leads, sales: ports.sales, mailer, publisher, clock, settings, chat, log };
    handlers.handoff = async (event) => {
      const result = await handOff(salesDeps, event.detail);
      if (result.status === "assigned") log.info("lead handed off", { leadId: result.item.leadId, teamId: result.item.teamId, rep: result.item.rep });
    };
    handlers.exit = async (event) => {
      await exitEnrollments(deps, { leadId: leadIdOf(event.detail), event: event["detail-type"] });
    };
    handlers.report = async (event) => {
      await recordReportEvent({ reports }, event);
    };
    handlers.engagement = async (event) => {
      const outcome = await handleEngagementEvent(deps, event);
      if (outcome.kind === "ignored") log.info("engagement event ignored", { reason: outcome.reason });
    };

    const feedback = new DynamoFeedbackStore({ client, tableName });
    const rewards = new DynamoRewardsStore({ client, tableName });
    const feedbackDeps: FeedbackDeps = { config, leads, feedback, publisher, clock, log };
    handlers.feedback = async (event) => {
      await applyOutcome(feedbackDeps, event.detail);
    };

    const tick = async () => {
      const republished = await republishPending({ leads, publisher });
      if (republished > 0) log.info(`republished ${republished} lead(s) the bus had not seen`);
      await republishEvents({ leads, publisher, clock, log });
      await bus.drain();
      // Not-now leads whose date came go back to nurture before the sweep, so their first step
      // is already waiting when it runs.
      const recycled = await recycleDueLeads(feedbackDeps);
      if (recycled.due > 0) log.info("recycle dates reached", { ...recycled });
      await bus.drain();
      // Sweep until nothing more is due now (each pass takes a batch per shard).
      for (let pass = 0; pass < 50; pass++) {
        const report = await sweepDueSteps(deps);
        if (report.sent + report.skipped + report.ended + report.retried > 0) log.info("swept", { ...report });
        await bus.drain();
        if (report.due < settings.batchSize) break;
      }
      // Claim windows that closed move their leads on; notifications that failed get another try.
      const sla = await checkClaimSlas(salesDeps);
      if (sla.overdue > 0) log.info("claim SLAs checked", { ...sla });
      await settleConfirmations({ ...deps, records: new DynamoLeadRecords({ client, tableName }) });
      const owed = await retryNotifications(salesDeps);
      if (owed.owed > 0) log.info("rep notifications retried", { ...owed });
      await bus.drain();
      // Qualifications whose lead.qualified every retry failed to publish: announced now, so the lead reaches sales.
      const reannounced = await republishQualifications(deps);
      if (reannounced > 0) log.info(`announced ${reannounced} qualification(s) the bus had not seen`);
      await bus.drain();
    };

    const authSecret = options.dataDir
      ? localAuthSecret(options.dataDir)
      : process.env.LEADLOOP_AUTH_SECRET || randomBytes(32).toString("base64url");
    const app = createApp({
      ...deps,
      log,
      authenticate: createAuthenticator(AuthSettings.parse({ hs256Secret: authSecret })),
      records: new DynamoLeadRecords({ client, tableName }),
      rewards,
      clientIp: socketIp,
      sales: ports.sales,
      chat,
      reports,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    });

    const server = serve({ fetch: app.fetch, port: listenPort, hostname: host });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
    settings.publicUrl = url;
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();

    if (!options.keepThankYouUrls) {
      for (const form of Object.values(config.forms)) form.thankYouUrl = `${url}/thanks`;
    }
    app.route(
      "/",
      devRoutes({
        config,
        clock,
        sesEndpoint,
        afterAdvance: tick,
        describeMessage: async (providerId) => {
          const m = await nurture.getMessageByProviderId(providerId);
          return m && { leadId: m.leadId, kind: m.kind, sequenceId: m.sequenceId, stepId: m.stepId, virtualSentAt: m.sentAt };
        },
        sesEvents: {
          configurationSet: LOCAL_CONFIGURATION_SET,
          // The tags the sweeper sent with the message; the SES emulator does not keep them.
          tagsOf: async (providerId) => {
            const sent = bareMailer.tagsOf(providerId);
            if (sent) return sent;
            const m = await nurture.getMessageByProviderId(providerId);
            if (!m) return undefined;
            return { lead: m.leadId, message: m.messageId, ...(m.sequenceId ? { sequence: m.sequenceId } : {}), ...(m.stepId ? { step: m.stepId } : {}) };
          },
          put: (event) => bus.put(event),
        },
      }),
    );

    let ticking = false;
    const timer = setInterval(() => {
      if (ticking) return;
      ticking = true;
      tick()
        .catch((error: unknown) => log.warn("periodic jobs failed; will retry", { error: String(error) }))
        .finally(() => {
          ticking = false;
        });
    }, options.tickEveryMs ?? 5_000);
    timer.unref();
    stops.push(async () => clearInterval(timer));

    return {
      url,
      port,
      dynamoEndpoint,
      sesEndpoint,
      tableName,
      config,
      clock,
      bus,
      store,
      nurture,
      deps,
      sales,
      salesDeps,
      reports,
      feedback,
      rewards,
      signer,
      authSecret,
      log,
      tick,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
