/**
 * A cold container of the public API, driven through its Lambda handler (functions/api.ts) as API
 * Gateway invokes it, against DynamoDB Local behind a proxy that counts connections: its first
 * form post is answered, and every store shares one DynamoDB client, so the cold start opens one
 * connection to DynamoDB (in AWS each is a TLS handshake before the first byte), not one per store.
 * A first form post counts its address's window while the secrets are still being read (from a
 * stand-in for SSM that answers only once DynamoDB has been asked, or after a few seconds), counts
 * it once, and a client whose window is full is refused with nothing stored.
 */
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer as createTcpServer, type AddressInfo, type Server } from "node:net";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { windowUpdate } from "@leadloop/store/dynamo-rate-windows";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { writeConfigSnapshot } from "../../infra/config-snapshot";
import { createTestTable, dynamoEndpoint, type TestTable } from "../engines";

let table: TestTable;
let proxy: Server;
let connections = 0;
/** Resolved when the proxy first carries a request to DynamoDB. */
let dynamoAsked: Promise<void>;
let markDynamoAsked: () => void = () => {};
const resetDynamoAsked = () => {
  dynamoAsked = new Promise<void>((asked) => {
    markDynamoAsked = asked;
  });
};
resetDynamoAsked();
/** What the SSM stand-in saw: whether DynamoDB had been asked before it answered. */
const ssmAnswers: { dynamoFirst: boolean }[] = [];
const SSM_PREFIX = "/sst/leadloop/cold/";
// Answers GetParameters as SSM does, once DynamoDB has been asked (at most a few seconds later, so
// a handler that reads the secrets first is not left waiting: it is caught by \`dynamoFirst\`).
const ssm = createHttpServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", async () => {
    let dynamoFirst = true;
    await Promise.race([dynamoAsked, new Promise<void>((late) => setTimeout(() => {
      dynamoFirst = false;
      late();
    }, 3000))]);
    ssmAnswers.push({ dynamoFirst });
    const names = (JSON.parse(body || "{}") as { Names?: string[] }).Names ?? [];
    const value = (name: string) => (name.includes("LEAD_ID_KEY") ? "test-lead-id-key-0123456789abcdef" : "test-signing-key-0123456789abcdef");
    res.setHeader("content-type", "application/x-amz-json-1.1");
    res.end(JSON.stringify({ Parameters: names.map((Name) => ({ Name, Type: "SecureString", Value: value(Name), Version: 1 })), InvalidParameters: [] }));
  });
});
const eventBridge = createHttpServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    const entries = (JSON.parse(body || "{}") as { Entries?: unknown[] }).Entries ?? [];
    res.setHeader("content-type", "application/x-amz-json-1.1");
    res.end(JSON.stringify({ FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) }));
  });
});
const saved = { ...process.env };

beforeAll(async () => {
  table = await createTestTable("cold");
  const target = new URL(dynamoEndpoint());
  proxy = createTcpServer((socket) => {
    connections++;
    const upstream = connect(Number(target.port), target.hostname);
    socket.once("data", () => markDynamoAsked());
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise<void>((ready) => proxy.listen(0, "127.0.0.1", ready));
  await new Promise<void>((ready) => eventBridge.listen(0, "127.0.0.1", ready));
  await new Promise<void>((ready) => ssm.listen(0, "127.0.0.1", ready));
  const snapshot = writeConfigSnapshot({ root: process.cwd(), outDir: `.leadloop/test-cold-start-${process.pid}` });
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    EVENT_BUS_NAME: "leadloop-test",
    SES_CONFIGURATION_SET: "leadloop-test",
    PUBLIC_URL: "https://api.test.example",
    CONFIG_FILE: snapshot.file,
    // Bound as SST binds a value set in the environment (no SSM read).
    SST_Secret_value_TOKEN_SIGNING_KEY: "test-signing-key-0123456789abcdef",
    SST_Secret_value_LEAD_ID_KEY: "test-lead-id-key-0123456789abcdef",
    SST_Parameter_value_SENDER: "Acme <hello@acme.example>",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    AWS_ENDPOINT_URL_EVENTBRIDGE: `http://127.0.0.1:${(eventBridge.address() as AddressInfo).port}`,
    AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(ssm.address() as AddressInfo).port}`,
    SST_APP: "leadloop",
    SST_STAGE: "cold",
    SST_SSM_PREFIX: SSM_PREFIX,
  });
});

afterAll(async () => {
  process.env = saved;
  eventBridge.close();
  ssm.close();
  proxy.close();
  await table?.drop();
});

/** A website's form post from `sourceIp`, as API Gateway hands it to the function. */
function formPost(email: string, sourceIp: string) {
  const body = {
    email,
    firstName: "Ada",
    lastName: "Lovelace",
    company: "Analytical Engines",
    title: "Director of Analytics",
    companySize: 800,
    country: "GB",
    consent: true,
  };
  const path = "/v1/forms/demo-request/submissions";
  return {
    version: "2.0",
    routeKey: "POST /v1/forms/{formId}/submissions",
    rawPath: path,
    rawQueryString: "",
    headers: { accept: "application/json", "content-type": "application/json", host: "api.test.example" },
    requestContext: {
      accountId: "123456789012",
      apiId: "test",
      domainName: "api.test.example",
      http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp, userAgent: "test" },
      requestId: randomUUID(),
      routeKey: "POST /v1/forms/{formId}/submissions",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    pathParameters: { formId: "demo-request" },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

const context = { awsRequestId: "test", functionName: "api", functionVersion: "$LATEST", invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:api", memoryLimitInMB: "512", getRemainingTimeInMillis: () => 30_000 };

/** A new container: the handler module loaded afresh (no runtime, no leases, no client yet). */
async function coldHandler() {
  vi.resetModules();
  return (await import("../../functions/api")).handler;
}

/** Every item of the table: what a request stored, or did not. */
async function items(): Promise<Record<string, unknown>[]> {
  return ((await table.client.send(new ScanCommand({ TableName: table.tableName, ConsistentRead: true }))).Items ?? []) as Record<string, unknown>[];
}

/** The hits counted in the address's capture windows. */
async function hitsOf(ip: string): Promise<number> {
  return (await items()).filter((item) => String(item.pk).startsWith(`RATE#capture#ip#${ip}#`)).reduce((sum, item) => sum + Number(item.hits), 0);
}

describe("the public API's cold start", () => {
  it("answers its first form post with one connection to DynamoDB", async () => {
    const handler = await coldHandler();
    const result = (await handler(formPost(`cold-${randomUUID().slice(0, 8)}@example.com`, "203.0.113.9") as never, context as never)) as { statusCode: number; body: string };
    expect(result.statusCode, result.body).toBe(202);
    expect(JSON.parse(result.body)).toHaveProperty("leadId");
    expect(connections).toBe(1);
  });

  describe("with its secrets in SSM", () => {
    const bound = { SST_Secret_value_TOKEN_SIGNING_KEY: "__FETCH_FROM_SSM__", SST_Secret_value_LEAD_ID_KEY: "__FETCH_FROM_SSM__" };
    let before: Record<string, string | undefined>;
    beforeAll(() => {
      before = { SST_Secret_value_TOKEN_SIGNING_KEY: process.env.SST_Secret_value_TOKEN_SIGNING_KEY, SST_Secret_value_LEAD_ID_KEY: process.env.SST_Secret_value_LEAD_ID_KEY };
      Object.assign(process.env, bound);
    });
    afterAll(() => {
      Object.assign(process.env, before);
    });

    it("counts the first post's address while the secrets are read, once", async () => {
      resetDynamoAsked();
      ssmAnswers.length = 0;
      const handler = await coldHandler();
      const result = (await handler(formPost(`cold-${randomUUID().slice(0, 8)}@example.com`, "198.51.100.21") as never, context as never)) as { statusCode: number; body: string };
      expect(result.statusCode, result.body).toBe(202);
      expect(ssmAnswers).toEqual([{ dynamoFirst: true }]);
      expect(await hitsOf("198.51.100.21")).toBe(1);
    });

    it("refuses a cold post from an address whose window is full, storing nothing", async () => {
      resetDynamoAsked();
      const ip = "198.51.100.22";
      // The window of this minute and the next full (the default: 30 submissions a minute).
      const windowMs = 60_000;
      for (const start of [0, 1].map((i) => Math.floor(Date.now() / windowMs) * windowMs + i * windowMs)) {
        await table.client.send(new UpdateCommand(windowUpdate(table.tableName, `capture#ip#${ip}`, start, { limit: 30, windowSeconds: 60 }, 30)));
      }
      const email = `refused-${randomUUID().slice(0, 8)}@example.com`;
      const handler = await coldHandler();
      const result = (await handler(formPost(email, ip) as never, context as never)) as { statusCode: number; body: string; headers: Record<string, string> };
      expect(result.statusCode, result.body).toBe(429);
      expect(result.headers["content-type"]).toBe("application/problem+json");
      expect(JSON.parse(result.body).detail).toMatch(/Too many submissions from your address/);
      expect(JSON.stringify(await items())).not.toContain(email);
    });
  });
});
