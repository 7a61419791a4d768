/**
 * `npm run bench:coldstart`: every Lambda entry point under functions/ bundled as the stacks bundle
 * it (SST's own esbuild, ESM, minified, with infra/bundling.ts's target, externals and aliases), then, per
 * function, the time from process start to its first handled invocation: a node process loads the
 * bundle and calls its handler once with the event its trigger delivers (an API Gateway v2 request
 * for the API, a rep's sales queue for the staff API, today's funnel for the reports API, the rule
 * target input `{rule, event}` for a bus handler, a scheduled event for a
 * job), against DynamoDB Local, the SES emulator and stand-ins for EventBridge and SSM (the
 * bound secrets are read from it on the first invocation, as in AWS). Each time is a
 * ratio to `node -e 0` measured in this same run (medians of several repetitions, interleaved).
 * Each bundle's size and its largest contributors (esbuild's metafile) are printed beside it.
 * Aims (issue 16): every bundle <= 250 KB, the API within 4x `node -e 0`.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { allRules } from "@leadloop/core/routing/routing-rules";
import { registryEntry } from "@leadloop/core/registry";
import { createDocumentClient, ensureTable } from "@leadloop/store";
import { signHs256Token } from "@leadloop/api/auth/issue";
import { sstBuildOptions } from "../infra/bundling";
import { writeConfigSnapshot } from "../infra/config-snapshot";
import { LEADLOOP_SECRET_NAMES } from "../functions/lib/secret-names";
import { slackWebhookNames } from "../functions/lib/slack-webhooks";
import { startDynamoDbLocal, startSesLocal } from "../packages/local/src/engines";

const root = process.cwd();
/** Every Lambda entry point the stacks deploy: one file per function under functions/. */
const FUNCTIONS = readdirSync(join(root, "functions"))
  .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
  .map((file) => file.slice(0, -3))
  .sort((a, b) => Number(b === "api") - Number(a === "api") || a.localeCompare(b));
type FunctionName = string;
/** The function a website's form posts reach: its cold start is the headline. */
const HEADLINE: FunctionName = "api";
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 5);
const BUNDLE_BUDGET = 250 * 1024;
const API_AIM = 4.0;

const out = resolve(".leadloop/bench/coldstart");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// --- bundles, as SST builds them (runtime/handlers/node.js in sst@2, ESM branch) ---------------
// With SST's own copy of esbuild (0.18), not the newer one at the top of node_modules: the bytes
// measured are the bytes deployed.
const { build } = createRequire(createRequire(import.meta.url).resolve("sst/package.json"))("esbuild") as typeof import("esbuild");
const sizes: Record<FunctionName, number> = {};
const largestInputs: Record<FunctionName, [string, number][]> = {};
for (const name of FUNCTIONS) {
  const outfile = join(out, `${name}.mjs`);
  const result = await build(sstBuildOptions(join(root, "functions", `${name}.ts`), outfile));
  sizes[name] = statSync(outfile).size;
  const inputs = Object.values(result.metafile.outputs)[0]?.inputs ?? {};
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = match?.[1] ?? (path.startsWith("packages/") ? path.split("/").slice(0, 2).join("/") : path.split("/")[0] ?? path);
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  largestInputs[name] = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 5);
}

// --- local engines and a stand-in for EventBridge's PutEvents -----------------------------------
const [ddb, ses] = await Promise.all([startDynamoDbLocal(), startSesLocal()]);
const tableName = `coldstart-${randomUUID().slice(0, 8)}`;
await ensureTable(createDocumentClient({ endpoint: ddb.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }), tableName);
// No EventBridge emulator exists; this answers PutEvents as AWS does when it accepts every entry,
// and keeps the last event of each type so the bus handlers get the events capture really published.
const published = new Map<string, { detail: Record<string, unknown> }>();
const eventBridge = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    const entries = (JSON.parse(body || "{}") as { Entries?: { DetailType?: string; Detail?: string }[] }).Entries ?? [];
    for (const entry of entries) if (entry.DetailType && entry.Detail) published.set(entry.DetailType, { detail: JSON.parse(entry.Detail) });
    res.setHeader("content-type", "application/x-amz-json-1.1");
    res.end(JSON.stringify({ FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) }));
  });
});
await new Promise<void>((ready) => eventBridge.listen(0, "127.0.0.1", ready));
const eventBridgeEndpoint = `http://127.0.0.1:${(eventBridge.address() as AddressInfo).port}`;

const snapshot = writeConfigSnapshot({ root, outDir: ".leadloop/bench/coldstart" });
const sequence = snapshot.config.sequences.find((s) => s.segment === "enterprise") ?? snapshot.config.sequences[0];
if (!sequence) throw new Error("the config has no sequence to enroll into");

const AUTH_SECRET = "bench-hs256-secret-0123456789abcdef0123456789";
const SSM_PREFIX = "/sst/leadloop/bench/";
// The stage's secrets, as `npx sst secrets set` stores them; every function binds them as SST does
// (`__FETCH_FROM_SSM__`) and reads them on its first invocation, as in AWS.
const secrets: Record<string, string> = {
  TOKEN_SIGNING_KEY: "bench-signing-key-0123456789abcdef",
  LEAD_ID_KEY: "bench-lead-id-key-0123456789abcdef",
  AUTH_HS256_SECRET: AUTH_SECRET,
  // The teams' Slack webhooks, set to "none": the hand-off notifies by email only.
  ...Object.fromEntries(slackWebhookNames(snapshot.config.teams.teams, LEADLOOP_SECRET_NAMES).map((name) => [name, "none"])),
};
const parameters = new Map(Object.entries(secrets).map(([name, value]) => [`${SSM_PREFIX}Secret/${name}/value`, value]));
// No SSM emulator either: this answers GetParameter(s) from those values, as SSM does.
const ssm = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    const input = JSON.parse(body || "{}") as { Name?: string; Names?: string[] };
    const found = (name: string) => ({ Name: name, Type: "SecureString", Value: parameters.get(name), Version: 1 });
    res.setHeader("content-type", "application/x-amz-json-1.1");
    if (String(req.headers["x-amz-target"]).endsWith(".GetParameter")) {
      if (input.Name && parameters.has(input.Name)) res.end(JSON.stringify({ Parameter: found(input.Name) }));
      else res.writeHead(400).end(JSON.stringify({ __type: "ParameterNotFound", message: `${input.Name} not found` }));
      return;
    }
    const names = input.Names ?? [];
    res.end(JSON.stringify({ Parameters: names.filter((n) => parameters.has(n)).map(found), InvalidParameters: names.filter((n) => !parameters.has(n)) }));
  });
});
await new Promise<void>((ready) => ssm.listen(0, "127.0.0.1", ready));
const ssmEndpoint = `http://127.0.0.1:${(ssm.address() as AddressInfo).port}`;

const env: Record<string, string> = {
  PATH: process.env.PATH ?? "",
  TABLE_NAME: tableName,
  EVENT_BUS_NAME: "leadloop-bench",
  SES_CONFIGURATION_SET: "leadloop-bench",
  PUBLIC_URL: "https://api.bench.example",
  CONFIG_FILE: join(root, snapshot.file),
  SST_APP: "leadloop",
  SST_STAGE: "bench",
  SST_SSM_PREFIX: SSM_PREFIX,
  ...Object.fromEntries(Object.keys(secrets).map((name) => [`SST_Secret_value_${name}`, "__FETCH_FROM_SSM__"])),
  SST_Parameter_value_SENDER: "Acme <hello@acme.example>",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
  AWS_ENDPOINT_URL_SESV2: ses.endpoint,
  AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridgeEndpoint,
  AWS_ENDPOINT_URL_SSM: ssmEndpoint,
  POWERTOOLS_LOG_LEVEL: "INFO",
};

const context = { awsRequestId: "bench", functionName: "bench", functionVersion: "$LATEST", invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench", memoryLimitInMB: "512", getRemainingTimeInMillis: () => 30_000 };
writeFileSync(
  join(out, "invoke.mjs"),
  [
    "const { handler } = await import(process.argv[2]);",
    `const context = ${JSON.stringify(context).replace(/}$/, ", getRemainingTimeInMillis: () => 30000 }")};`,
    "const result = await handler(JSON.parse(process.env.BENCH_EVENT), context);",
    "if (result && typeof result.statusCode === 'number') {",
    "  if (result.statusCode >= 400) { console.error(JSON.stringify(result)); process.exit(3); }",
    "  process.stdout.write('\\n' + JSON.stringify({ statusCode: result.statusCode, body: result.body }) + '\\n');",
    "}",
    // The first request is handled: idle keep-alive sockets must not keep the process up.
    "process.exit(0);",
  ].join("\n"),
);

// Loading alone (the handler module imported, nothing invoked): what the bundle's size costs, apart
// from what the first request does (the secrets read, its round trips and the code they run).
writeFileSync(join(out, "load.mjs"), ["await import(process.argv[2]);", "process.exit(0);"].join("\n"));
/** The functions whose loading alone is timed too: the three behind the HTTP API. */
const LOAD_ALONE: FunctionName[] = ["api", "staff-api", "reports-api"];

let leadCounter = 0;
const submission = () => ({
  email: `cold${leadCounter++}-${randomUUID().slice(0, 6)}@bench-corp.example`,
  firstName: "Ada",
  lastName: "Lovelace",
  company: "Analytical Engines",
  title: "Director of Analytics",
  companySize: 800,
  country: "GB",
  consent: true,
});
/** An API Gateway (HTTP API, payload 2.0) request as the route `routeKey` receives it. */
const httpEvent = (
  routeKey: string,
  path: string,
  options: { body?: object; headers?: Record<string, string>; pathParameters?: Record<string, string>; query?: Record<string, string> } = {},
) => {
  const method = routeKey.split(" ")[0] ?? "GET";
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query).toString(),
    ...(options.query ? { queryStringParameters: options.query } : {}),
    headers: { accept: "application/json", host: "api.bench.example", "user-agent": "bench", ...(options.body ? { "content-type": "application/json" } : {}), ...options.headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "bench",
      domainName: "api.bench.example",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "bench" },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(options.body ? { body: JSON.stringify(options.body) } : {}),
    isBase64Encoded: false,
  };
};
/** A website's form post: the public API's first request. */
const apiEvent = (body: object) =>
  httpEvent("POST /v1/forms/{formId}/submissions", "/v1/forms/demo-request/submissions", { body, pathParameters: { formId: "demo-request" } });
/**
 * A marketer opening today's funnel with a bearer token: the reports API's first request. One day,
 * not the route's default 30: each day is one query per report shard (16), so the default period
 * is 480 queries, a cost of the report that a warm container pays alike, not of the cold start.
 */
const marketingToken = await signHs256Token({ email: "marketer@bench-corp.example", roles: ["marketing"] }, AUTH_SECRET);
const reportsEvent = () => {
  const today = new Date().toISOString().slice(0, 10);
  return httpEvent("GET /v1/reports/funnel", "/v1/reports/funnel", { headers: { authorization: `Bearer ${marketingToken}` }, query: { from: today, to: today } });
};

/** A rep opening their sales queue with a bearer token: the staff API's first request. */
const repEmail = snapshot.config.teams.teams[0]?.reps[0]?.email ?? "rep@bench-corp.example";
const repToken = await signHs256Token({ email: repEmail, roles: ["rep"] }, AUTH_SECRET);
const staffEvent = () => httpEvent("GET /v1/sales/queue", "/v1/sales/queue", { headers: { authorization: `Bearer ${repToken}` } });

function run(command: string, args: string[], extra: Record<string, string> = {}): Promise<{ ms: number; stdout: string }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(command, args, { env: { ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("exit", (code) => {
      const ms = performance.now() - started;
      if (code === 0) done({ ms, stdout: stdout.split("\n").findLast((line) => line.startsWith("{\"statusCode\"")) ?? "" });
      else fail(new Error(`${args.join(" ")} exited ${code}:\n${stderr.slice(-2000)}`));
    });
  });
}

/** A real lead, captured through the API bundle (untimed), for the enroll and exit invocations. */
async function capturedLeadId(): Promise<string> {
  const { stdout } = await run(process.execPath, [join(out, "invoke.mjs"), join(out, "api.mjs")], { BENCH_EVENT: JSON.stringify(apiEvent(submission())) });
  const response = JSON.parse(stdout) as { statusCode: number; body: string };
  const { leadId } = JSON.parse(response.body) as { leadId?: string };
  if (!leadId) throw new Error(`capture answered ${response.statusCode} without a lead id: ${response.body}`);
  return leadId;
}

/** The detail of each leadloop event a bus handler is measured on, for the lead just captured. */
function detailOf(type: string, leadId: string): Record<string, unknown> {
  const now = new Date().toISOString();
  const captured = published.get("lead.captured")?.detail ?? {};
  const segment = String(captured.segment ?? sequence?.segment);
  switch (type) {
    case "lead.captured":
      return { ...captured, leadId };
    case "lead.qualified":
      return { leadId, segment, score: 120, threshold: 100, qualifiedAt: now, reasons: [] };
    case "lead.closed":
      return { leadId, teamId: snapshot.config.teams.teams[0]?.id ?? "team", rep: "rep", outcome: "won", amount: 1000, currency: "EUR", closedAt: now };
    default:
      throw new Error(`the bench has no ${type} event`);
  }
}

/** What the function's trigger delivers: a form post, its rule's target input, or its schedule's event. */
function eventFor(name: FunctionName, leadId: string): object {
  if (name === "api") return apiEvent(submission());
  if (name === "reports-api") return reportsEvent();
  if (name === "staff-api") return staffEvent();
  const entry = registryEntry(name);
  if (entry.kind === "job") return { version: "0", id: randomUUID(), "detail-type": "Scheduled Event", source: "aws.events", time: new Date().toISOString(), detail: {} };
  // The first of the function's rules that a leadloop event matches, with that event.
  const rules = allRules(snapshot.config).filter((r) => r.target === entry.target);
  for (const rule of rules) {
    const types = (rule.pattern as { "detail-type"?: unknown })["detail-type"];
    const type = Array.isArray(types) ? ["lead.captured", "lead.qualified", "lead.closed"].find((t) => types.includes(t)) : "lead.captured";
    if (!type || (rule.pattern as { source?: string[] }).source?.includes("leadloop") === false) continue;
    const event = { version: "0", id: randomUUID(), source: "leadloop", "detail-type": type, time: new Date().toISOString(), account: "123456789012", region: "us-east-1", resources: [], detail: detailOf(type, leadId) };
    return { rule: rule.name, event };
  }
  throw new Error(`no rule of ${name} takes a leadloop event the bench can make`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

try {
  const baseline: number[] = [];
  const times: Record<FunctionName, number[]> = Object.fromEntries(FUNCTIONS.map((n) => [n, [] as number[]]));
  const loads: Record<FunctionName, number[]> = Object.fromEntries(LOAD_ALONE.map((n) => [n, [] as number[]]));
  // Warm the file cache once so the first measured run is not a disk read.
  await run(process.execPath, ["-e", "0"]);
  const warmLead = await capturedLeadId();
  for (const name of FUNCTIONS) await run(process.execPath, [join(out, "invoke.mjs"), join(out, `${name}.mjs`)], { BENCH_EVENT: JSON.stringify(eventFor(name, warmLead)) });
  for (let i = 0; i < REPETITIONS; i++) {
    const leadId = await capturedLeadId();
    for (const name of FUNCTIONS) {
      // The baseline interleaved with every function, so a busy moment weighs on both alike.
      baseline.push((await run(process.execPath, ["-e", "0"])).ms);
      const { ms } = await run(process.execPath, [join(out, "invoke.mjs"), join(out, `${name}.mjs`)], { BENCH_EVENT: JSON.stringify(eventFor(name, leadId)) });
      times[name]?.push(ms);
      if (LOAD_ALONE.includes(name)) loads[name]?.push((await run(process.execPath, [join(out, "load.mjs"), join(out, `${name}.mjs`)])).ms);
    }
  }
  const base = median(baseline);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  console.log(`node -e 0: median ${base.toFixed(0)} ms over ${baseline.length} runs`);
  console.log("function                    bundle   first request (median)  ratio   largest parts of the bundle");
  for (const name of FUNCTIONS) {
    const t = median(times[name] ?? []);
    const parts = (largestInputs[name] ?? []).map(([p, b]) => `${p} ${kb(b)}`).join(", ");
    const flag = (sizes[name] ?? 0) > BUNDLE_BUDGET ? "*" : " ";
    console.log(`${name.padEnd(26)}  ${kb(sizes[name] ?? 0).padStart(7)}${flag}  ${t.toFixed(0).padStart(8)} ms   ${(t / base).toFixed(2).padStart(6)}x   ${parts}`);
  }
  for (const name of LOAD_ALONE) {
    const loaded = median(loads[name] ?? []) / base;
    const first = median(times[name] ?? []) / base;
    console.log(`${name}: loading the bundle alone ${loaded.toFixed(2)}x node -e 0; its first request adds ${(first - loaded).toFixed(2)}x (secrets read, round trips and the code they run)`);
  }
  const apiRatio = median(times[HEADLINE] ?? []) / base;
  const [largestName, largest] = Object.entries(sizes).sort((a, b) => b[1] - a[1])[0] ?? ["?", 0];
  console.log(`largest bundle: ${largestName} ${kb(largest)} (* over 250 KB)`);
  const verdict = [largest <= BUNDLE_BUDGET ? "all bundles within 250 KB" : "a bundle is over 250 KB", apiRatio <= API_AIM ? "api within 4x" : "api over the 4x aim"].join("; ");
  console.log(verdict);
  console.log(`api cold start ${apiRatio.toFixed(2)}x node -e 0, largest bundle ${kb(largest)}`);
} finally {
  eventBridge.close();
  ssm.close();
  await Promise.all([ddb.stop(), ses.stop()]);
}
