/**
 * The local stack: the same handlers and adapters as in AWS, pointed at local engines. DynamoDB
 * Local and the SES v2 emulator run as child processes, the bus in process, time on a virtual
 * clock. `npm start` runs it; the end-to-end tests start it the same way.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type AppLogger, createApp, type RateLimit } from "@leadloop/api";
import { allRules, type LeadloopConfig, loadConfigOrThrow, republishPending, TokenSigner } from "@leadloop/core";
import { type BusHandler, LocalBus } from "@leadloop/events";
import { createDocumentClient, DynamoLeadStore, ensureTable } from "@leadloop/store";
import { serve } from "@hono/node-server";
import type { Context } from "hono";
import { consoleLogger } from "./console-logger";
import { devRoutes } from "./dev-routes";
import { startDynamoDbLocal, startSesLocal } from "./engines";
import { VirtualClock } from "./virtual-clock";

export interface LocalStackOptions {
  /** HTTP port; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Where DynamoDB data, the clock and the local signing key live; omit to keep all in memory. */
  dataDir?: string;
  /** Use an already running DynamoDB Local / SES emulator instead of starting one. */
  dynamoEndpoint?: string;
  sesEndpoint?: string;
  tableName?: string;
  configDir?: string;
  rateLimit?: RateLimit;
  /** How often the republisher looks for leads the bus never saw. */
  republishEveryMs?: number;
  logLevel?: "info" | "warn" | "error" | "silent";
  /** Keep the forms' real thank-you URLs instead of the local /thanks page. */
  keepThankYouUrls?: boolean;
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
  signer: TokenSigner;
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
    const client = createDocumentClient({ endpoint: dynamoEndpoint });
    await ensureTable(client, tableName);
    const store = new DynamoLeadStore({ client, tableName });
    const clock = new VirtualClock(options.dataDir ? join(options.dataDir, "clock.json") : undefined);
    const signer = new TokenSigner(localSigningKey(options.dataDir));

    const handlers: Partial<Record<string, BusHandler>> = {};
    const bus = new LocalBus({
      rules: allRules(config),
      handlers,
      clock,
      onDeadLetter: (letter) => log.error("event dead-lettered", { rule: letter.rule, error: letter.error }),
    });
    stops.push(async () => {
      await Promise.race([bus.drain(), new Promise((r) => setTimeout(r, 2000))]);
      bus.stop();
    });

    const tick = async () => {
      const republished = await republishPending({ store, publisher: bus });
      if (republished > 0) log.info(`republished ${republished} lead(s) the bus had not seen`);
      await bus.drain();
    };

    const app = createApp({
      config,
      store,
      publisher: bus,
      clock,
      signer,
      log,
      clientIp: socketIp,
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    });

    const server = serve({ fetch: app.fetch, port: options.port ?? 3000, hostname: options.host ?? "127.0.0.1" });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const url = `http://${options.host ?? "127.0.0.1"}:${port}`;
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();

    if (!options.keepThankYouUrls) {
      for (const form of Object.values(config.forms)) form.thankYouUrl = `${url}/thanks`;
    }
    app.route("/", devRoutes({ config, clock, sesEndpoint, afterAdvance: tick }));

    let ticking = false;
    const timer = setInterval(() => {
      if (ticking) return;
      ticking = true;
      tick()
        .catch((error: unknown) => log.warn("periodic jobs failed; will retry", { error: String(error) }))
        .finally(() => {
          ticking = false;
        });
    }, options.republishEveryMs ?? 30_000);
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
      signer,
      log,
      tick,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
