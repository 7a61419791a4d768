/**
 * The report function as its queue calls it in AWS: a batch of SQS records, each the `{rule, event}`
 * input the report rule puts on the queue, against DynamoDB Local. It answers the records to
 * deliver again (ReportBatchItemFailures), and a batch delivered twice counts nothing twice.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildFunnelReport, type EventEnvelope } from "@leadloop/core";
import { DynamoReportStore } from "@leadloop/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeConfigSnapshot } from "../../infra/config-snapshot";
import { createTestTable, dynamoEndpoint, type TestTable } from "../engines";

let table: TestTable;
const saved = { ...process.env };

beforeAll(async () => {
  table = await createTestTable("report-queue");
  const { file } = writeConfigSnapshot({ root: process.cwd(), outDir: mkdtempSync(join(tmpdir(), "snapshot-")) });
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    EVENT_BUS_NAME: "bus",
    SES_CONFIGURATION_SET: "set",
    PUBLIC_URL: "https://api.example.com",
    SENDER: "Acme <hello@acme.example>",
    TOKEN_SIGNING_KEY: "0123456789abcdef0123",
    LEAD_ID_KEY: "fedcba98765432100123",
    CONFIG_FILE: resolve(process.cwd(), file),
    POWERTOOLS_LOG_LEVEL: "ERROR",
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  });
}, 60_000);
afterAll(async () => {
  process.env = saved;
  await table?.drop();
});

const event = (id: string, type: string, detail: Record<string, unknown>, source = "leadloop"): EventEnvelope => ({
  version: "0",
  id,
  source,
  "detail-type": type,
  time: "2026-01-05T10:00:00Z",
  detail,
});
const record = (messageId: string, body: unknown) => ({ messageId, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("the report function on its queue", () => {
  it("counts a batch once, however often it comes, and hands back only the records it could not take", async () => {
    const { handler } = await import("../../functions/report");
    const captured = event("e1", "lead.captured", { leadId: "queued-lead", segment: "queued", formId: "demo", source: { utm_source: "google" } });
    const opened = event(
      "e2",
      "Email Opened",
      { mail: { tags: { lead: ["queued-lead"], sequence: ["s"], step: ["a"], message: ["m1"] } }, open: { timestamp: "2026-01-05T11:00:00Z" } },
      "aws.ses",
    );
    const batch = {
      Records: [
        record("r1", { rule: "report", event: captured }),
        // The same event twice in one batch (SQS delivers at least once).
        record("r2", { rule: "report", event: captured }),
        record("r3", { rule: "report", event: opened }),
        // Not a rule's input, and a rule of another target: wiring defects, handed back for the dead-letter queue.
        record("r4", "not json"),
        record("r5", { rule: "exit", event: captured }),
      ],
    };
    expect(await handler(batch)).toEqual({ batchItemFailures: [{ itemIdentifier: "r4" }, { itemIdentifier: "r5" }] });
    expect(await handler(batch)).toEqual({ batchItemFailures: [{ itemIdentifier: "r4" }, { itemIdentifier: "r5" }] });

    const reports = new DynamoReportStore({ client: table.client, tableName: table.tableName });
    const report = await buildFunnelReport({ reports }, { from: "2026-01-01", to: "2026-01-14", segment: "queued" });
    expect(report.totals.stages.slice(0, 2).map((s) => [s.stage, s.count])).toEqual([
      ["captured", 1],
      ["engaged", 1],
    ]);
    expect(report.sequences[0]?.steps[0]).toMatchObject({ stepId: "a", opened: 1 });
  });
});
