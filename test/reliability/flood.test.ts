/**
 * A flood from one client is limited while everyone else carries on: one address floods the
 * capture route through two API instances sharing one table (two Lambda containers), and gets 429
 * problem+json with Retry-After once its shared window is full, whatever container it reaches;
 * meanwhile another address submits and unsubscribes as usual. The windows are the ones the
 * deployed API function is given (read from the synthesised stack), and the stack gives the
 * capture and events routes their own API Gateway throttles.
 */
import { request } from "node:http";
import { clientLimitsFromEnv } from "@leadloop/api";
import { type ClientLimitSettings, ipKey, unsubscribeUrl } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTE_THROTTLES } from "../../infra/api-stack";
import { synthesize } from "../../infra/synthesize";
import { demoLead, startTestStack } from "../e2e/local-stack";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request from a chosen loopback address, so the stack sees distinct clients. */
function send(url: string, from: string, method: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      { method, localAddress: from, headers: { accept: "application/json", ...(payload ? { "content-type": "application/json" } : {}) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

let deployed: ClientLimitSettings;
let containerA: LocalStack;
let containerB: LocalStack;
let deployedTemplate: Template;

beforeAll(async () => {
  process.env.LEADLOOP_SENDER ??= "Acme <hello@acme.example>";
  const { stacks } = await synthesize({ stage: "test" });
  deployedTemplate = Template.fromStack(stacks.ApiStack);
  const functions = deployedTemplate.findResources("AWS::Lambda::Function");
  const api = Object.entries(functions).find(([id]) => id.startsWith("ApiFunction"));
  const variables = (api?.[1].Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
  deployed = clientLimitsFromEnv(variables.CLIENT_LIMITS as string | undefined);
  expect(variables.CLIENT_LIMITS, "the API function is given its windows").toBeTypeOf("string");

  // The buckets are opened wide: what must hold is the shared window, across both instances.
  const wide = { burst: 1_000_000, perSecond: 1_000_000 };
  containerA = await startTestStack({ rateLimit: wide, clientLimits: deployed, tickEveryMs: 3_600_000 });
  containerB = await startTestStack({ rateLimit: wide, clientLimits: deployed, tickEveryMs: 3_600_000, tableName: containerA.tableName });
}, 60_000);

afterAll(async () => {
  await containerB?.stop();
  await containerA?.stop();
});

describe("flood", () => {
  it("the deployed stack throttles the capture and events routes on their own", () => {
    const stages = deployedTemplate.findResources("AWS::ApiGatewayV2::Stage");
    const [stage] = Object.values(stages);
    expect(stage?.Properties?.RouteSettings).toEqual(ROUTE_THROTTLES);
    for (const settings of Object.values(ROUTE_THROTTLES)) {
      expect(settings.throttlingRateLimit).toBeLessThan(stage?.Properties?.DefaultRouteSettings?.ThrottlingRateLimit);
    }
  });

  it("limits the flooding client across containers while another client submits and unsubscribes", { timeout: 120_000 }, async () => {
    const path = "/v1/forms/demo-request/submissions";
    const flood = deployed.capture.limit * 2 + 10;
    const statuses: number[] = [];
    let refusal: Answer | undefined;
    for (let i = 0; i < flood; i++) {
      const container = i % 2 === 0 ? containerA : containerB;
      const answer = await send(`${container.url}${path}`, "127.0.0.2", "POST", demoLead(`flood-${i}@flood.example`));
      statuses.push(answer.status);
      if (answer.status === 429) refusal ??= answer;
    }
    const accepted = statuses.filter((s) => s === 202).length;
    // A window may end mid-flood; even then no more than two windows' worth get through.
    expect(accepted).toBeGreaterThanOrEqual(deployed.capture.limit);
    expect(accepted).toBeLessThanOrEqual(deployed.capture.limit * 2);
    expect(statuses.filter((s) => s !== 202 && s !== 429)).toEqual([]);
    expect(refusal).toBeDefined();
    expect(refusal!.headers["content-type"]).toContain("application/problem+json");
    const wait = Number(refusal!.headers["retry-after"]);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(deployed.capture.windowSeconds);
    expect(JSON.parse(refusal!.body)).toMatchObject({ status: 429, detail: expect.stringContaining("Try again in") });

    // Another client, on either container, is not affected.
    const other = await send(`${containerB.url}${path}`, "127.0.0.3", "POST", demoLead("calm@other.example"));
    expect(other.status).toBe(202);
    const { leadId } = JSON.parse(other.body) as { leadId: string };
    const link = unsubscribeUrl(containerA.deps.settings, containerA.signer, leadId, containerA.clock.now());
    const unsubscribed = await send(link.replace(containerA.deps.settings.publicUrl, containerA.url), "127.0.0.3", "POST");
    expect(unsubscribed.status).toBe(200);
    // And unsubscribe is open to the flooding client too: the limit is capture's, not the API's.
    const again = await send(link.replace(containerA.deps.settings.publicUrl, containerA.url), "127.0.0.2", "POST");
    expect(again.status).toBe(200);
  });

  it("limits one address resubmitted from many networks", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < deployed.captureEmail.limit + 3; i++) {
      const answer = await send(`${containerA.url}/v1/forms/demo-request/submissions`, `127.0.1.${i + 1}`, "POST", demoLead("replayed@list.example"));
      statuses.push(answer.status);
    }
    expect(statuses.slice(0, deployed.captureEmail.limit).every((s) => s === 202)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it("counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4", () => {
    expect(ipKey("2001:db8:aaaa:bbbb:1:2:3:4").value).toBe(ipKey("2001:db8:aaaa:bbbb:ffff::9").value);
    expect(ipKey("2001:db8:aaaa:bbbb::1").value).not.toBe(ipKey("2001:db8:aaaa:bbbc::1").value);
    expect(ipKey("::ffff:203.0.113.9").value).toBe("203.0.113.9");
    expect(ipKey("2001:db8::1").value).toBe("2001:db8:0:0::/64");
  });
});
