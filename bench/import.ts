/**
 * bench:import — `npm run import` of a generated 10,000-row file with bad rows (BENCH_ROWS to
 * change it) into a fresh local stack, run twice: rows per second of each run, the errors found,
 * and the duplicate count (lead items beyond one per distinct valid address; must be 0).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { signHs256Token } from "@leadloop/api";
import { describeTotals } from "@leadloop/core";
import { startLocalStack } from "@leadloop/local";
import { startDynamoDbLocal, startSesLocal } from "@leadloop/local/engines/index";
import { runImport } from "@leadloop/local/import-client";
import { createDocumentClient } from "@leadloop/store";
import { writeLeadCsv } from "../test/e2e/lead-csv";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);

const ddb = await startDynamoDbLocal({});
const ses = await startSesLocal({});
const stack = await startLocalStack({
  port: 0,
  dynamoEndpoint: ddb.endpoint,
  sesEndpoint: ses.endpoint,
  tableName: "bench-import",
  logLevel: "error",
  // Nurture sweeps are not what this measures; enrollment on capture still runs.
  tickEveryMs: 3_600_000,
});
try {
  const file = join(mkdtempSync(join(tmpdir(), "leadloop-bench-import-")), "leads.csv");
  const csv = writeLeadCsv(file, ROWS, "bench");
  // The file's suppressed row must meet a suppressed address, as in the e2e test: it is skipped.
  await stack.store.suppress({ email: csv.suppressedEmail, reason: "unsubscribed", at: stack.clock.now().toISOString() });
  const token = await signHs256Token({ email: "bench@leadloop.local", roles: ["admin"] }, stack.authSecret);
  const quiet = { write: () => true };
  const run = async (label: string) => {
    const report = await runImport([file, "--form", "demo-request", "--url", stack.url, "--token", token], { stdout: quiet, stderr: quiet, env: {} });
    if (!report) throw new Error("the import printed its help instead of running");
    await stack.bus.drain();
    console.log(`${label}: ${describeTotals(report.totals)}; ${report.rowsPerSecond} rows/s`);
    return report;
  };
  console.log(`${ROWS} rows, ${csv.faults.size} of them bad, duplicated or suppressed on purpose; ${csv.validEmails.size} distinct valid addresses`);
  const first = await run("first run ");
  const second = await run("second run");

  const client = createDocumentClient({ endpoint: ddb.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  let leads = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await client.send(
      new ScanCommand({ TableName: "bench-import", FilterExpression: "sk = :lead", ExpressionAttributeValues: { ":lead": "LEAD" }, Select: "COUNT", ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    leads += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  console.log(`lead items: ${leads}; duplicates: ${leads - csv.validEmails.size}; created on the second run: ${second.totals.created}`);
  console.log(`errors listed: ${first.totals.errors} (${first.errorsFile})`);
  console.log(`rows/s: ${first.rowsPerSecond} first run, ${second.rowsPerSecond} second run`);
} finally {
  await stack.stop();
  await ses.stop();
  await ddb.stop();
}
