/**
 * A cold container of the public API, driven through its Lambda handler (functions/api.ts) as API
 * Gateway invokes it, against DynamoDB Local behind a proxy that counts connections: its first
 * form post is answered, and every store shares one DynamoDB client, so the cold start opens one
 * connection to DynamoDB (in AWS each is a TLS handshake before the first byte), not one per store.
 */
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer as createTcpServer, type AddressInfo, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeConfigSnapshot } from "../../infra/config-snapshot";
import { createTestTable, dynamoEndpoint, type TestTable } from "../engines";

let table: TestTable;
let proxy: Server;
let connections = 0;
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
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise<void>((ready) => proxy.listen(0, "127.0.0.1", ready));
  await new Promise<void>((ready) => eventBridge.listen(0, "127.0.0.1", ready));
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
  });
});

afterAll(async () => {
  process.env = saved;
  eventBridge.close();
  proxy.close();
  await table?.drop();
});

describe("the public API's cold start", () => {
  it("answers its first form post with one connection to DynamoDB", async () => {
    const { handler } = await import("../../functions/api");
    const body = {
      email: `cold-${randomUUID().slice(0, 8)}@example.com`,
      firstName: "Ada",
      lastName: "Lovelace",
      company: "Analytical Engines",
      title: "Director of Analytics",
      companySize: 800,
      country: "GB",
      consent: true,
    };
    const path = "/v1/forms/demo-request/submissions";
    const event = {
      version: "2.0",
      routeKey: "POST /v1/forms/{formId}/submissions",
      rawPath: path,
      rawQueryString: "",
      headers: { accept: "application/json", "content-type": "application/json", host: "api.test.example" },
      requestContext: {
        accountId: "123456789012",
        apiId: "test",
        domainName: "api.test.example",
        http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "test" },
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
    const context = { awsRequestId: "test", functionName: "api", functionVersion: "$LATEST", invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:api", memoryLimitInMB: "512", getRemainingTimeInMillis: () => 30_000 };
    const result = (await handler(event as never, context as never)) as { statusCode: number; body: string };
    expect(result.statusCode, result.body).toBe(202);
    expect(JSON.parse(result.body)).toHaveProperty("leadId");
    expect(connections).toBe(1);
  });
});
