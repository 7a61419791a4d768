/**
 * Nurture use cases wired to the real local engines (DynamoDB Local, the SES v2 emulator) with a
 * clock the test moves by hand. No handler runs on the bus: each test calls the use cases itself.
 */
import { randomUUID } from "node:crypto";
import {
  captureLead,
  type Clock,
  type LeadloopConfig,
  loadConfigOrThrow,
  type Mailer,
  type NurtureDeps,
  NurtureSettings,
  TokenSigner,
} from "@leadloop/core";
import { LocalBus } from "@leadloop/events";
import { createSesClient, SesMailer } from "@leadloop/mailer";
import { DynamoLeadStore, DynamoNurtureStore } from "@leadloop/store";
import { createTestTable, sesEndpoint, type TestTable } from "../engines";

export class ManualClock implements Clock {
  constructor(public at: Date) {}
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

export interface Harness {
  deps: NurtureDeps;
  clock: ManualClock;
  table: TestTable;
  leads: DynamoLeadStore;
  nurture: DynamoNurtureStore;
  bus: LocalBus;
  config: LeadloopConfig;
  /** Captures a demo-request lead and returns its id. */
  capture(email: string, extra?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** A Monday 10:00 in New York: inside every shipped send window. */
export const MONDAY_MORNING = new Date("2026-03-02T15:00:00Z");

export async function nurtureHarness(options: { mailer?: (real: Mailer) => Mailer; config?: LeadloopConfig } = {}): Promise<Harness> {
  const table = await createTestTable("nurture");
  const config = options.config ?? loadConfigOrThrow("config");
  const clock = new ManualClock(MONDAY_MORNING);
  const leads = new DynamoLeadStore({ client: table.client, tableName: table.tableName, leadIdKey: "harness-lead-id-key-0123456789" });
  const nurture = new DynamoNurtureStore({ client: table.client, tableName: table.tableName });
  const real = new SesMailer({ client: createSesClient({ endpoint: sesEndpoint() }) });
  const bus = new LocalBus({ rules: [], handlers: {}, clock });
  const deps: NurtureDeps = {
    config,
    leads,
    nurture,
    mailer: options.mailer ? options.mailer(real) : real,
    publisher: bus,
    clock,
    settings: NurtureSettings.parse({ publicUrl: "http://127.0.0.1:3000", from: "Acme <hello@acme.example>", maxSendsPerSecond: 10_000 }),
    signer: new TokenSigner("harness-signing-key-0123456789"),
  };
  return {
    deps,
    clock,
    table,
    leads,
    nurture,
    bus,
    config,
    async capture(email, extra = {}) {
      const outcome = await captureLead(
        { config, leads, publisher: bus, clock },
        "demo-request",
        { email, firstName: "Ada", lastName: "Lovelace", company: "Engines", title: "VP Engineering", companySize: 2000, country: "US", timezone: "America/New_York", consent: true, ...extra },
        { ip: "127.0.0.1", userAgent: "test" },
      );
      if (outcome.kind !== "stored") throw new Error("not stored");
      return outcome.lead.id;
    },
    async close() {
      bus.stop();
      await table.drop();
    },
  };
}

export const uniqueEmail = (tag: string) => `${tag}-${randomUUID().slice(0, 8)}@engines.example`;
