/**
 * The local stack: the same handlers and adapters as in AWS, pointed at local engines. DynamoDB
 * Local and the SES v2 emulator run as child processes, the bus in process, time on a virtual
 * clock. `npm start` runs it; the end-to-end tests start it the same way.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type AppDeps, type AppLogger, createApp, createAuthenticator, type RateLimit } from "@leadloop/api";
import {
  type BroadcastStore,
  AuthSettings,
  type ClientLimitSettings,
  DEFAULT_CLIENT_LIMITS,
  allRules,
  HANDLERS,
  JOBS,
  type JobEntry,
  type RegistryPorts,
  type SalesDeps,
  type SalesStore,
  type EventPublisher,
  type LeadloopConfig,
  type LeadStore,
  durationMs,
  loadConfigOrThrow,
  type Mailer,
  type NurtureDeps,
  NurtureSettings,
  type NurtureStore,
  TokenSigner,
  resolveWebhookTargets,
} from "@leadloop/core";
import { type BusHandler, type DeadLetter, LocalBus } from "@leadloop/events";
import { createSesClient, FetchWebhookSender, SesMailer, SlackWebhookNotifier } from "@leadloop/mailer";
import {
  createDocumentClient,
  DynamoApiKeys,
  DynamoBroadcastStore,
  DynamoFeedbackStore,
  DynamoJourneyCounts,
  DynamoLeadQuality,
  DynamoLeadRecords,
  DynamoLeadStore,
  DynamoNurtureStore,
  DynamoRateWindows,
  DynamoReportStore,
  DynamoRewardsStore,
  DynamoSalesStore,
  DynamoWebhookStore,
  ensureTable,
} from "@leadloop/store";
import type { SESv2Client } from "@aws-sdk/client-sesv2";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { serve } from "@hono/node-server";
import type { Context } from "hono";
import { checkConfig } from "@leadloop/core/config/check";
import { describeConfigChange } from "@leadloop/core/config/config-change";
import { type ConfigFingerprint, changedFiles, fingerprintConfig, watchFolder } from "./config-watch";
import { consoleLogger } from "./console-logger";
import { type DevRouteDeps, devRoutes } from "./dev-routes";
import { startDynamoDbLocal, startSesLocal } from "./engines";
import { deadLetterFile, readDeadLetters, writeDeadLetters } from "./dead-letters";
import { localAuthSecret } from "./local-secrets";
import { TagRememberingMailer } from "./ses-event-injector";
import { nextDueAt } from "./next-due";
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
  /**
   * Port of the SES emulator the stack starts (its viewer's address); default a free one.
   * `npm start` fixes it (PORT + 5) so the viewer's URL survives a restart.
   */
  sesPort?: number;
  tableName?: string;
  configDir?: string;
  rateLimit?: RateLimit;
  /** The per-client windows shared across containers, as the API function gets them; default DEFAULT_CLIENT_LIMITS. */
  clientLimits?: ClientLimitSettings;
  /** How often the periodic jobs run (sweeper, republisher), in real milliseconds. */
  tickEveryMs?: number;
  /** Sender of every email; defaults to the example company's. */
  sender?: string;
  logLevel?: "info" | "warn" | "error" | "silent";
  /** Keep the forms' real thank-you URLs instead of the local /thanks page. */
  keepThankYouUrls?: boolean;
  /** /preview, /journeys and their JSON answer anyone (default); false guards them as a deployed stage does. */
  openMarketingTools?: boolean;
  /** Where team Slack webhook variables (`slackWebhookEnv`) are read; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /**
   * Decorates the adapters the use cases and the API get (fault injection, counting). The stack's
   * own `store`, `nurture` and `sales` fields stay the bare adapters, for tests to inspect.
   */
  wrapAdapters?: (adapters: StackAdapters) => Partial<StackAdapters>;
  /**
   * First pause before the bus redelivers to a failed handler (doubling each time); default the
   * rule's delivery policy (`deliveryPolicy` in the core, the same the stacks deploy).
   */
  busRetryDelayMs?: number;
  /** Start the virtual clock at this instant (it then runs at real speed), e.g. 22:00 UTC or a Saturday. */
  clockStartAt?: Date | string;
  /**
   * The shortest step of a clock advance between due moments (the schedules' finest rate in AWS
   * is a minute, so nothing is later than it would be there); default one minute.
   */
  advanceStepMs?: number;
  /** Sees the SDK clients once built, e.g. to add middleware that counts requests. */
  instrumentClients?: (clients: StackClients) => void;
  /**
   * Runs each unit of work a Lambda would run (an HTTP request, a bus delivery to a registry
   * handler, a job run) under its name (`POST /v1/forms/:id/submissions`, `handler enroll`,
   * `job sweeper`), e.g. to attribute the requests it makes (bench:cost). Default: just runs it.
   */
  runAs?: <T>(name: string, work: () => Promise<T>) => Promise<T>;
  /**
   * Watch the config folder and swap each valid edit in while running (`npm start` does); a
   * broken edit keeps the running config. `reloadConfig()` does the same on demand either way.
   */
  watchConfig?: boolean;
  /** Told of every reload attempt; default: printed (unless logLevel is "silent"). */
  onConfigReload?: (reload: ConfigReload) => void;
}

/** One attempt to swap an edited config in. */
export interface ConfigReload {
  /** Real time of the attempt. */
  at: string;
  /** Swapped in; false keeps the running config (`output` says why). */
  ok: boolean;
  /** The version running after the attempt. */
  version: string;
  /** Files added, removed or edited since the running config was loaded, as `config/…` paths. */
  changedFiles: string[];
  /** What the swap changed, e.g. "sequence smb-nurture changed: step welcome". */
  changes: string[];
  /** config:check's output for the edited folder (problems and warnings). */
  output: string;
}

/** The running config's identity, for GET /dev/config. */
export interface ConfigStatus {
  dir: string;
  version: string;
  /** Real time the running config was loaded. */
  loadedAt: string;
  watching: boolean;
  lastReload?: ConfigReload;
}

/** What a reload prints: the changes, or config:check's output when the edit is refused. */
export function formatConfigReload(reload: ConfigReload, loadedAt: string): string {
  const files = reload.changedFiles.join(", ");
  if (!reload.ok) {
    return `config not reloaded: ${files || "the config folder"} has problems; the running config (version ${reload.version}, loaded ${loadedAt}) stays in use.\n${reload.output}`;
  }
  const changes = reload.changes.length > 0 ? reload.changes.map((c) => `  ${c}`).join("\n") : "  (nothing that changes what is routed, scored or sent)";
  return `config reloaded (version ${reload.version}): ${reload.changedFiles.length} file${reload.changedFiles.length === 1 ? "" : "s"} changed: ${files}\n${changes}`;
}

/** The ports the use cases run on; `wrapAdapters` may replace any of them. */
export interface StackAdapters {
  leads: LeadStore;
  nurture: NurtureStore;
  sales: SalesStore;
  mailer: Mailer;
  publisher: EventPublisher;
  broadcasts: BroadcastStore;
}

export interface AdvanceReport {
  now: string;
  /** Due moments the advance stopped at and ran the jobs for (the end of the advance included). */
  moments: number;
  /** Job runs that failed on the way; what they left due was taken by a later moment's run (or the next tick). */
  failedRuns: number;
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
  /** Runs the bus retries and every scheduled job of the registry once, as of the clock's now. */
  tick(): Promise<void>;
  /**
   * Moves the clock forward by an ISO 8601 duration and runs every job at each due moment it
   * crosses, in order, after the deliveries in flight (what `POST /dev/clock/advance` does).
   */
  advance(by: string): Promise<AdvanceReport>;
  /** Checks the config folder as config:check does and swaps it in if clean (what the watcher does on an edit). */
  reloadConfig(): ConfigReload;
  configStatus(): ConfigStatus;
  /** Replays dead-lettered deliveries (all, or the ids named) through their handlers. */
  redrive(ids?: readonly string[]): Promise<{ redriven: number; failed: number; unknownRule: number }>;
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

/** A request path with its ids (lead ids, UUIDs, long tokens) as `:id`, so one route has one name. */
function routeName(path: string): string {
  return path
    .split("/")
    .map((part) => (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(part) || (part.length > 24 && /\d/.test(part)) ? ":id" : part))
    .join("/");
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
    const configDir = options.configDir ?? "config";
    let config = loadConfigOrThrow(configDir);
    let fingerprint: ConfigFingerprint = fingerprintConfig(configDir);
    let loadedAt = new Date().toISOString();
    let lastReload: ConfigReload | undefined;
    // Calibration's suggested diff is against the file as written, comments and all.
    const scoringPath = join(configDir, "scoring.yaml");
    const readScoringYaml = () => (existsSync(scoringPath) ? readFileSync(scoringPath, "utf8") : undefined);
    const scoringYaml = readScoringYaml();

    let dynamoEndpoint = options.dynamoEndpoint;
    if (!dynamoEndpoint) {
      const ddb = await startDynamoDbLocal(options.dataDir ? { dbPath: join(options.dataDir, "dynamodb") } : {});
      stops.push(ddb.stop);
      dynamoEndpoint = ddb.endpoint;
    }
    let sesEndpoint = options.sesEndpoint;
    if (!sesEndpoint) {
      const ses = await startSesLocal({
        ...(options.sesPort !== undefined ? { port: options.sesPort, portSetting: "LEADLOOP_SES_PORT" } : {}),
        // Kept with the data: a restart still lists (in /dev/emails and the viewer) what was sent.
        ...(options.dataDir ? { storeFile: join(options.dataDir, "ses-emails.jsonl") } : {}),
      });
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
    const clock = new VirtualClock(options.dataDir ? join(options.dataDir, "clock.json") : undefined, {
      ...(options.clockStartAt !== undefined ? { startAt: options.clockStartAt } : {}),
    });
    const signer = new TokenSigner(localSigningKey(options.dataDir));

    const handlers: Partial<Record<string, BusHandler>> = {};
    const bus = new LocalBus({
      rules: allRules(config),
      handlers,
      clock,
      ...(options.busRetryDelayMs !== undefined ? { retryDelayMs: options.busRetryDelayMs } : {}),
      // Kept in the data folder: a dead letter is a lead's missed step until it is redriven.
      deadLetters: options.dataDir ? readDeadLetters(deadLetterFile(options.dataDir)) : [],
      onDeadLettersChanged: (letters: readonly DeadLetter[]) => {
        if (options.dataDir) writeDeadLetters(deadLetterFile(options.dataDir), letters);
      },
      onDeadLetter: (letter) =>
        log.error("event dead-lettered; `npm run redrive` replays it", { rule: letter.rule, attempts: letter.attempts, error: letter.error }),
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
    const bare: StackAdapters = {
      leads: store,
      nurture,
      sales,
      mailer: bareMailer,
      publisher: bus,
      broadcasts: new DynamoBroadcastStore({ client, tableName }),
    };
    const ports: StackAdapters = { ...bare, ...options.wrapAdapters?.(bare) };
    const { leads, mailer, publisher } = ports;
    const chat = new SlackWebhookNotifier({ env: options.env ?? process.env });
    const feedback = new DynamoFeedbackStore({ client, tableName });
    const rewards = new DynamoRewardsStore({ client, tableName });
    const records = new DynamoLeadRecords({ client, tableName });
    // Endpoints whose URL and key variables are set (options.env, else the environment); the others get nothing.
    const webhookTargets = resolveWebhookTargets(config.webhooks?.endpoints ?? [], (name) => (options.env ?? process.env)[name]);
    if (webhookTargets.missing.length > 0) log.info("webhook endpoints without URL and key variables are skipped", { endpoints: webhookTargets.missing });
    const webhookStore = new DynamoWebhookStore({ client, tableName });
    const webhookSender = new FetchWebhookSender();
    // Rebuilt whole on a config reload: a delivery or job run that started keeps the config it began with.
    const portsFor = (current: LeadloopConfig): RegistryPorts => {
      const nurture: NurtureDeps = { config: current, leads, nurture: ports.nurture, mailer, publisher, clock, settings, signer, log, points: rewards };
      return {
        nurture,
        sales: { config: current, leads, sales: ports.sales, mailer, publisher, clock, settings, chat, log },
        feedback: { config: current, leads, feedback, publisher, clock, log },
        reports: { reports },
        records,
        broadcasts: ports.broadcasts,
        rewards: { ...nurture, rewards },
        webhooks: { config: current, leads, sales: ports.sales, webhooks: webhookStore, sender: webhookSender, targets: webhookTargets.targets, clock, log },
      };
    };
    let registryPorts = portsFor(config);

    // The bus delivers to the registry's handlers, as EventBridge delivers to their functions.
    const runAs = options.runAs ?? (<T>(_name: string, work: () => Promise<T>) => work());
    for (const entry of HANDLERS) {
      handlers[entry.target] = async (event, rule) => {
        const result = await runAs(`handler ${entry.name}`, () => entry.handle(registryPorts, event, rule));
        if (!entry.quiet) log.info(entry.name, { rule: rule.name, ...result });
      };
    }

    // Inside an advance, retries wait for their moment; the timer's tick waits for near ones too.
    let drainRetries = true;
    const runJob = async (job: JobEntry): Promise<boolean> => {
      // A run stops at its batch size; locally the rest is due now too, so run again until done.
      for (let pass = 0; pass < 50; pass++) {
        try {
          const { worked, more, incomplete, report } = await runAs(`job ${job.name}`, () => job.run(registryPorts, {}));
          if (worked > 0 || incomplete) log.info(job.name, { ...report });
          if (incomplete) return false;
          if (!more) return true;
        } catch (error) {
          // As a failed cron run in AWS: what it left due is taken by the next run.
          log.warn(`${job.name} failed; its next run takes what is left`, { error: String(error) });
          return false;
        } finally {
          await bus.drain({ retries: drainRetries });
        }
      }
      return true;
    };
    // Jobs never overlap (in AWS each has reserved concurrency 1): the timer and an advance take turns.
    let jobs: Promise<unknown> = Promise.resolve();
    const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
      const run = jobs.then(work);
      jobs = run.catch(() => {});
      return run;
    };
    /** Runs the due bus retries and each job once (every job, or those named); returns the jobs that failed. */
    const runDueNow = async (only: readonly JobEntry[] = JOBS): Promise<JobEntry[]> => {
      bus.runDue();
      await bus.drain({ retries: drainRetries });
      const failed: JobEntry[] = [];
      for (const job of only) if (!(await runJob(job))) failed.push(job);
      return failed;
    };
    const tick = () =>
      exclusive(async () => {
        const failed = await runDueNow();
        // The timer retries soon anyway; a caller of tick() (a test, a fault suite) is told.
        if (failed.length > 0) throw new Error(`${failed.map((j) => j.name).join(", ")} failed; the next tick takes what they left`);
      });
    const stepMs = options.advanceStepMs ?? 60_000;
    const advance = (by: string) =>
      exclusive(async (): Promise<AdvanceReport> => {
        let ms: number;
        try {
          ms = durationMs(by);
        } catch (error) {
          throw new RangeError((error as Error).message);
        }
        if (!(ms > 0)) throw new RangeError(`cannot advance the clock by ${by}: give a positive duration such as P2D`);
        // The advance adds `ms` to the offset exactly; real time spent running jobs comes on top.
        const endOffset = clock.offsetMs + ms;
        const endAt = () => Date.now() + endOffset;
        // What the bus already holds belongs to before the jump (a capture just made enrolls first).
        await bus.drain({ retries: false });
        drainRetries = false;
        // Each retry is taken at its own clock time below, none on its real timer meanwhile.
        bus.holdRetries(true);
        let moments = 0;
        let failedRuns = 0;
        let retrySteps = 0;
        let lastFailed: JobEntry[] = [];
        // Failed runs are tried again a step later, then at growing intervals (as a cron run keeps
        // coming in AWS), never left to the end of the advance: what they left is due now.
        let againStreak = 0;
        const againAfter = () => stepMs * 2 ** Math.max(0, Math.min(6, againStreak - 2));
        try {
          lastFailed = await runDueNow();
          failedRuns += lastFailed.length;
          for (;;) {
            const now = clock.now().getTime();
            const indexed = (await nextDueAt(client, tableName, clock.now()))?.getTime();
            // A run that failed left its work due at or before now: run those jobs again a step
            // later, as their next cron run would, not at the end of the advance (past the window).
            const again = lastFailed.length > 0 && (indexed === undefined || indexed > now + againAfter());
            const due = again ? now + againAfter() : indexed;
            const retry = bus.nextRetryAt()?.getTime();
            // A bus retry needs no job run, only its delivery: take it at its own time.
            if (retry !== undefined && retry < endAt() && (due === undefined || retry < Math.max(due, now + stepMs))) {
              clock.advanceTo(new Date(retry));
              bus.runDue();
              await bus.drain({ retries: false });
              retrySteps++;
              continue;
            }
            if (due === undefined) break;
            const next = Math.max(due, now + stepMs);
            if (next >= endAt()) break;
            clock.advanceTo(new Date(next));
            againStreak = again ? againStreak + 1 : 0;
            lastFailed = await runDueNow(again ? lastFailed : JOBS);
            failedRuns += lastFailed.length;
            moments++;
          }
          clock.advanceMs(Math.max(0, endOffset - clock.offsetMs));
          failedRuns += (await runDueNow()).length;
        } finally {
          drainRetries = true;
          bus.holdRetries(false);
        }
        log.info("clock advanced", { by, now: clock.now().toISOString(), moments: moments + 1, busRetries: retrySteps, failedRuns });
        return { now: clock.now().toISOString(), moments: moments + 1, failedRuns };
      });

    const authSecret = options.dataDir
      ? localAuthSecret(options.dataDir)
      : process.env.LEADLOOP_AUTH_SECRET || randomBytes(32).toString("base64url");
    const appDeps: AppDeps = {
      ...registryPorts.nurture,
      log,
      authenticate: createAuthenticator(AuthSettings.parse({ hs256Secret: authSecret })),
      records,
      apiKeys: new DynamoApiKeys({ client, tableName }),
      webhooks: webhookStore,
      webhookConfigured: (id) => webhookTargets.targets[id] !== undefined,
      journeys: new DynamoJourneyCounts({ client, tableName }),
      // /preview and /journeys need no token on a developer's machine.
      openMarketingTools: options.openMarketingTools ?? true,
      rewards,
      clientIp: socketIp,
      sales: ports.sales,
      chat,
      reports,
      quality: new DynamoLeadQuality({ client, tableName }),
      ...(scoringYaml !== undefined ? { scoringYaml } : {}),
      broadcasts: ports.broadcasts,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      sharedLimits: {
        ...(options.clientLimits ?? DEFAULT_CLIENT_LIMITS),
        windows: new DynamoRateWindows({ client, tableName }),
        nowMs: () => Date.now(),
        log,
      },
    };
    const app = createApp(appDeps);

    const fetch: typeof app.fetch = options.runAs
      ? (request, ...rest) => runAs(`${request.method} ${routeName(new URL(request.url).pathname)}`, async () => app.fetch(request, ...rest))
      : app.fetch;
    const server = serve({ fetch, port: listenPort, hostname: host });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
    settings.publicUrl = url;
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();

    // Browser posts land on the local /thanks page rather than the real site's.
    const localize = (loaded: LeadloopConfig): LeadloopConfig => {
      if (!options.keepThankYouUrls) for (const form of Object.values(loaded.forms)) form.thankYouUrl = `${url}/thanks`;
      return loaded;
    };
    localize(config);
    const devDeps: DevRouteDeps = {
      config,
      clock,
      sesEndpoint,
      advance,
      deadLetters: {
        list: () => bus.deadLetters,
        redrive: (ids) => bus.redrive(ids),
      },
      describeMessage: async (providerId) => {
        const m = await nurture.getMessageByProviderId(providerId);
        return m && { leadId: m.leadId, kind: m.kind, formId: m.formId, sequenceId: m.sequenceId, stepId: m.stepId, variantId: m.variantId, virtualSentAt: m.sentAt };
      },
      sesEvents: {
        configurationSet: LOCAL_CONFIGURATION_SET,
        // The tags the sweeper sent with the message; the SES emulator does not keep them.
        tagsOf: async (providerId) => {
          const sent = bareMailer.tagsOf(providerId);
          if (sent) return sent;
          const m = await nurture.getMessageByProviderId(providerId);
          if (!m) return undefined;
          return { lead: m.leadId, message: m.messageId, ...(m.sequenceId ? { sequence: m.sequenceId } : {}), ...(m.stepId ? { step: m.stepId } : {}), ...(m.formId ? { kind: m.kind, form: m.formId } : {}) };
        },
        put: (event) => bus.put(event),
      },
      configStatus: () => configStatus(),
    };
    app.route("/", devRoutes(devDeps));

    const configStatus = (): ConfigStatus => ({
      dir: configDir,
      version: fingerprint.version,
      loadedAt,
      watching: options.watchConfig ?? false,
      ...(lastReload ? { lastReload } : {}),
    });
    /**
     * Every consumer gets the new config in one synchronous step: the bus's rules, the jobs' and
     * handlers' ports (rebuilt), the API's and the dev routes' deps. A broken edit changes nothing.
     */
    const reloadConfig = (): ConfigReload => {
      const seen = fingerprintConfig(configDir);
      const files = changedFiles(fingerprint, seen);
      const check = checkConfig(configDir, clock.now());
      const at = new Date().toISOString();
      if (!check.config) {
        lastReload = { at, ok: false, version: fingerprint.version, changedFiles: files, changes: [], output: check.output };
        return lastReload;
      }
      const next = localize(check.config);
      const changes = describeConfigChange(config, next);
      config = next;
      registryPorts = portsFor(next);
      bus.setRules(allRules(next));
      appDeps.config = next;
      const yaml = readScoringYaml();
      if (yaml !== undefined) appDeps.scoringYaml = yaml;
      devDeps.config = next;
      fingerprint = seen;
      loadedAt = at;
      lastReload = { at, ok: true, version: seen.version, changedFiles: files, changes, output: check.output };
      return lastReload;
    };
    const report =
      options.onConfigReload ??
      ((reload: ConfigReload) => {
        if ((options.logLevel ?? "info") === "silent") return;
        (reload.ok ? console.log : console.error)(formatConfigReload(reload, loadedAt));
      });
    if (options.watchConfig) {
      let lastVersion = fingerprint.version;
      const stopWatching = watchFolder(configDir, () => {
        // Saving a file unchanged, or a refused edit saved again as is, is not news.
        const version = fingerprintConfig(configDir).version;
        if (version === lastVersion) return;
        lastVersion = version;
        report(reloadConfig());
      });
      stops.push(async () => stopWatching());
    }

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
      get config() {
        return config;
      },
      clock,
      bus,
      store,
      nurture,
      get deps() {
        return registryPorts.nurture;
      },
      sales,
      get salesDeps() {
        return registryPorts.sales;
      },
      reports,
      feedback,
      rewards,
      signer,
      authSecret,
      log,
      tick,
      advance,
      redrive: (ids) => bus.redrive(ids),
      reloadConfig,
      configStatus,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
