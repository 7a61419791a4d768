/**
 * Security: no one reads or changes leads they should not. Every non-public route refuses
 * missing, forged, expired, altered and wrong-role tokens (routes come from API_ROUTES, so a new
 * route is covered the day it is added); lead ids cannot be guessed; lead and unsubscribe tokens
 * cannot be turned into another lead's; CORS, the rate limit and the body limit hold; logs carry
 * no address or name; the deployed IAM policies grant no wildcard action.
 * `npm run reliability:security`; the whole suite also runs in `npm test`.
 */
import { createHash, randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { signHs256Token } from "@leadloop/api";
import { confirmUrl, type EventPublisher, type Mailer, ROLES, type Role, TokenSigner, unsubscribeUrl } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loggedMailer, loggedPublisher } from "../../functions/lib/logged-ports";
import { API_ROUTES } from "../../infra/api-stack";
import { synthesize } from "../../infra/synthesize";
import { demoLead, post, startTestStack } from "../e2e/local-stack";
import { printFigures } from "./size";

/** Routes anyone may call: forms, the site script, links in emails, pages that ask for a token themselves. */
const PUBLIC_ROUTES = new Set([
  "GET /health",
  "POST /v1/forms/{formId}/submissions",
  "POST /v1/events",
  "GET /v1/unsubscribe",
  "POST /v1/unsubscribe",
  "GET /v1/confirm",
  "POST /v1/confirm",
  "GET /sales",
  "GET /reports",
  "GET /assets/chart.umd.js",
  "GET /preview",
  "GET /journeys",
]);

/** Who may call each guarded route, by path prefix; a guarded route missing here fails the suite. */
const ALLOWED: [RegExp, Role[]][] = [
  [/^(GET|POST) \/v1\/sales\//, ["rep", "admin"]],
  [/^GET \/v1\/leads\/\{id\}$/, ["rep", "marketing", "admin"]],
  [/^GET \/v1\/reports\//, ["marketing", "admin"]],
  [/^(GET \/v1\/preview\/|POST \/v1\/preview\/|GET \/v1\/journeys$)/, ["marketing", "admin"]],
  [/^(GET|POST) \/v1\/broadcasts/, ["marketing", "admin"]],
  [/^POST \/v1\/customers\/\{id\}\/(purchases|redemptions|purchases\/\{purchaseId\}\/(refund|adjustments))$/, ["integration", "admin"]],
  [/^GET \/v1\/customers\/\{id\}\/points$/, ["integration", "admin", "marketing"]],
  [/^POST \/v1\/forms\/\{formId\}\/imports$/, ["admin"]],
  [/^(DELETE \/v1\/leads\/\{id\}|GET \/v1\/leads\/\{id\}\/export)$/, ["admin"]],
  [/^((GET|POST) \/v1\/admin\/api-keys|DELETE \/v1\/admin\/api-keys\/\{id\})$/, ["admin"]],
];

const GUARDED = API_ROUTES.filter((r) => !PUBLIC_ROUTES.has(r));

/** Unique, so a hit in the logs can only come from this suite's leads. */
const PERSON = { first: "Zebulonia", last: "Quaxworthy", company: "Obscura Holdings" };

let stack: LocalStack;
const logLines: string[] = [];
/** Printed once the console is ours again (it is captured while the suite runs). */
const figures: Record<string, string | number> = {};
const other = "https://evil.example";

beforeAll(async () => {
  // Everything the stack and the Lambda logger write, captured line by line.
  const capture = (...args: unknown[]) => void logLines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
  for (const method of ["log", "info", "warn", "error", "debug"] as const) vi.spyOn(console, method).mockImplementation(capture);
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    logLines.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    logLines.push(String(chunk));
    return true;
  });
  // The Lambdas log through Powertools around the mailer and the publisher (functions/lib).
  const powertools = new Logger({ serviceName: "leadloop-security", logLevel: "DEBUG" });
  const lambdaLog = {
    info: (m: string, e?: Record<string, unknown>) => powertools.info(m, e ?? {}),
    warn: (m: string, e?: Record<string, unknown>) => powertools.warn(m, e ?? {}),
    error: (m: string, e?: Record<string, unknown>) => powertools.error(m, e ?? {}),
  };
  stack = await startTestStack({
    logLevel: "info",
    // Guarded as in a deployed stage, so the marketing tools' routes are checked like the rest.
    openMarketingTools: false,
    tickEveryMs: 3_600_000,
    wrapAdapters: (bare) => ({
      mailer: loggedMailer(bare.mailer as Mailer, lambdaLog),
      publisher: loggedPublisher(bare.publisher as EventPublisher, lambdaLog),
    }),
  });
});
afterAll(async () => {
  await stack?.stop();
  vi.restoreAllMocks();
  printFigures("security", figures);
});

const concrete = (route: string) => {
  const [method = "GET", path = "/"] = route.split(" ");
  return { method, path: path.replace("{formId}", "demo-request").replace("{id}", randomUUID()) };
};

async function call(route: string, authorization?: string) {
  const { method, path } = concrete(route);
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(authorization ? { authorization } : {}), ...(method === "POST" ? { "content-type": "application/json" } : {}) },
    ...(method === "POST" ? { body: "{}" } : {}),
  });
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
}

const bearer = async (roles: Role[], options: { secret?: string; ttl?: string; now?: Date } = {}) =>
  `Bearer ${await signHs256Token({ email: "someone@acme-analytics.example", roles, ...(options.ttl ? { ttl: options.ttl } : {}), ...(options.now ? { now: options.now } : {}) }, options.secret ?? stack.authSecret)}`;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("guarded routes refuse who they should", () => {
  it("knows who may call every route API Gateway serves that is not public", () => {
    expect(GUARDED.length).toBeGreaterThanOrEqual(9);
    for (const route of GUARDED) expect(ALLOWED.some(([pattern]) => pattern.test(route)), `${route} has no expected roles`).toBe(true);
  });

  it("refuses missing, malformed, forged, alg-none, altered and expired tokens with 401 problem JSON", async () => {
    const admin = await bearer(["admin"]);
    const [header, , signature] = admin.slice(7).split(".");
    const altered = `Bearer ${header}.${b64({ email: "attacker@evil.example", sub: "attacker@evil.example", "leadloop:roles": ["admin"], aud: "leadloop", exp: 4_102_444_800 })}.${signature}`;
    const none = `Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "x@evil.example", "leadloop:roles": ["admin"], aud: "leadloop", exp: 4_102_444_800 })}.`;
    const refusals: Record<string, string | undefined> = {
      missing: undefined,
      malformed: "Bearer not-a-token",
      basic: "Basic YWRtaW46YWRtaW4=",
      forged: await bearer(["admin"], { secret: "another-secret-of-at-least-32-characters!" }),
      "alg none": none,
      altered,
      expired: await bearer(["admin"], { ttl: "1h", now: new Date(Date.now() - 2 * 3_600_000) }),
    };
    const wrong: string[] = [];
    for (const route of GUARDED) {
      for (const [kind, authorization] of Object.entries(refusals)) {
        const res = await call(route, authorization);
        if (res.status !== 401 || !res.type.includes("application/problem+json")) wrong.push(`${route} with ${kind} token: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("refuses roles the route does not allow with 403, and lets allowed roles past the guard", { timeout: 120_000 }, async () => {
    const wrong: string[] = [];
    for (const route of GUARDED) {
      const allowed = ALLOWED.find(([pattern]) => pattern.test(route))?.[1] ?? [];
      for (const role of [...ROLES, "none" as const]) {
        const res = await call(route, await bearer(role === "none" ? [] : [role]));
        const passed = res.status !== 401 && res.status !== 403;
        if (passed !== (role !== "none" && allowed.includes(role))) wrong.push(`${route} as ${role}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("lead ids and lead tokens", () => {
  it("derives ids that share no structure for similar addresses, never collide and look uniformly random", () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => stack.store.leadIdFor(`user${i}@example.com`));
    expect(new Set(ids).size).toBe(ids.length);
    // Bits that are not the UUID's fixed version and variant bits.
    const bits = (id: string) => {
      const hex = id.replaceAll("-", "");
      const raw = BigInt(`0x${hex}`).toString(2).padStart(128, "0");
      return raw.slice(0, 48) + raw.slice(52, 64) + raw.slice(66);
    };
    // Neighbours (user1, user2…) differ in about half their bits, as unrelated random ids do.
    let differing = 0;
    let total = 0;
    for (let i = 1; i < ids.length; i++) {
      const a = bits(ids[i - 1] as string);
      const b = bits(ids[i] as string);
      for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) differing++;
      total += a.length;
    }
    const share = differing / total;
    expect(share).toBeGreaterThan(0.49);
    expect(share).toBeLessThan(0.51);
    // Every bit position is 1 about half the time (chi-square-ish bound per position: 10,000 draws, sd 50).
    const ones = new Array<number>(122).fill(0);
    for (const id of ids) {
      const b = bits(id);
      for (let k = 0; k < b.length; k++) if (b[k] === "1") ones[k] = (ones[k] ?? 0) + 1;
    }
    for (const n of ones) expect(Math.abs(n - 5_000)).toBeLessThan(300);
    // Hex digits of the random part evenly spread (chi-square, 15 degrees of freedom; p < 0.001 at 37.7).
    const digits = new Map<string, number>();
    for (const id of ids) for (const d of id.replaceAll("-", "").slice(0, 12)) digits.set(d, (digits.get(d) ?? 0) + 1);
    const expected = (ids.length * 12) / 16;
    const chi = [...digits.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(digits.size).toBe(16);
    expect(chi).toBeLessThan(37.7);
    Object.assign(figures, { "lead ids": ids.length, collisions: ids.length - new Set(ids).size, "neighbour bits differing": `${(share * 100).toFixed(2)}%`, "hex chi-square (15 df)": chi.toFixed(1) });
  });

  it("refuses a lead token whose payload was swapped for another lead's", async () => {
    const capture = async (email: string) => {
      const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email, firstName: PERSON.first, company: PERSON.company, title: "VP Data", consent: true });
      expect(res.status).toBe(202);
      return (await res.json()) as { leadId: string; token: string };
    };
    const a = await capture(`token-a-${randomUUID().slice(0, 6)}@obscura.example`);
    const b = await capture(`token-b-${randomUUID().slice(0, 6)}@obscura.example`);
    const [payloadA, macA] = a.token.split(".");
    const [payloadB, macB] = b.token.split(".");
    const [, purpose, exp] = JSON.parse(Buffer.from(payloadA ?? "", "base64url").toString()) as [string, string, number];
    const forgeries = [
      `${payloadB}.${macA}`,
      `${payloadA}.${macB}`,
      `${b64([b.leadId, purpose, exp])}.${macA}`,
      new TokenSigner("a-key-that-is-not-the-stack-key").sign({ sub: b.leadId, purpose: "lead", exp }),
    ];
    await stack.bus.drain();
    const before = (await stack.store.getLead(b.leadId))?.score?.total;
    expect(before).toBeGreaterThan(0);
    for (const token of forgeries) {
      const res = await post(`${stack.url}/v1/events`, { token, type: "page_view", url: "https://www.acme-analytics.example/pricing" });
      expect(res.status).toBe(401);
    }
    await stack.bus.drain();
    expect((await stack.store.getLead(b.leadId))?.score?.total).toBe(before);
    // A lead token is not an unsubscribe token.
    const misuse = await fetch(`${stack.url}/v1/unsubscribe?token=${encodeURIComponent(b.token)}`, { method: "POST" });
    expect(misuse.status).toBeGreaterThanOrEqual(400);
    expect(await stack.store.getSuppression((await stack.store.getLead(b.leadId))?.email ?? "")).toBeUndefined();
  });
});

describe("unsubscribe tokens", () => {
  it("unsubscribes only the lead its own token names; altered and re-signed tokens are refused", async () => {
    const capture = async (email: string) => {
      const res = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email, firstName: PERSON.first, company: PERSON.company, title: "VP Data", consent: true });
      return ((await res.json()) as { leadId: string }).leadId;
    };
    const emailA = `unsub-a-${randomUUID().slice(0, 6)}@obscura.example`;
    const emailB = `unsub-b-${randomUUID().slice(0, 6)}@obscura.example`;
    const leadA = await capture(emailA);
    const leadB = await capture(emailB);
    const now = stack.clock.now();
    const settings = stack.deps.settings;
    const tokenOf = (url: string) => new URL(url).searchParams.get("token") ?? "";
    const tokenA = tokenOf(unsubscribeUrl(settings, stack.signer, leadA, now));
    const [payloadA, macA] = tokenA.split(".");
    const [, purpose, exp] = JSON.parse(Buffer.from(payloadA ?? "", "base64url").toString()) as [string, string, number];
    const forgeries = [
      `${b64([leadB, purpose, exp])}.${macA}`,
      new TokenSigner("a-key-that-is-not-the-stack-key").sign({ sub: leadB, purpose: "unsubscribe", exp }),
      `${payloadA}.${macA?.slice(0, -2)}AA`,
    ];
    for (const token of forgeries) {
      for (const method of ["GET", "POST"]) {
        const res = await fetch(`${stack.url}/v1/unsubscribe?token=${encodeURIComponent(token)}`, { method });
        expect(res.status, `${method} with a forged token`).toBeGreaterThanOrEqual(400);
      }
    }
    expect(await stack.store.getSuppression(emailB)).toBeUndefined();
    const own = await fetch(`${stack.url}/v1/unsubscribe?token=${encodeURIComponent(tokenA)}`, { method: "POST" });
    expect(own.status).toBe(200);
    expect(await stack.store.getSuppression(emailA)).toMatchObject({ reason: "unsubscribed" });
    expect(await stack.store.getSuppression(emailB)).toBeUndefined();
  });
});

describe("browser boundaries", () => {
  it("refuses other origins on preflight and on POST, and stores nothing for them", async () => {
    const preflight = await fetch(`${stack.url}/v1/forms/demo-request/submissions`, {
      method: "OPTIONS",
      headers: { origin: other, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const email = `cors-${randomUUID().slice(0, 6)}@obscura.example`;
    const posted = await post(`${stack.url}/v1/forms/demo-request/submissions`, demoLead(email), { origin: other });
    expect(posted.status).toBe(403);
    expect(posted.headers.get("access-control-allow-origin")).toBeNull();
    expect(await stack.store.getLeadByEmail(email)).toBeUndefined();
    const events = await post(`${stack.url}/v1/events`, { token: "x.y", type: "page_view" }, { origin: other });
    expect(events.status).toBe(403);
    expect(events.headers.get("access-control-allow-origin")).toBeNull();
    const eventsPreflight = await fetch(`${stack.url}/v1/events`, { method: "OPTIONS", headers: { origin: other, "access-control-request-method": "POST" } });
    expect(eventsPreflight.headers.get("access-control-allow-origin")).toBeNull();
    // The allowed origin is answered with itself, never with "*".
    const allowed = "https://www.acme-analytics.example";
    const ok = await fetch(`${stack.url}/v1/forms/demo-request/submissions`, { method: "OPTIONS", headers: { origin: allowed, "access-control-request-method": "POST" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe(allowed);
  });

  it("answers 413 over the body limit and 429 over the rate limit, storing nothing", async () => {
    const big = await post(`${stack.url}/v1/forms/demo-request/submissions`, { ...demoLead("big@obscura.example"), notes: "x".repeat(2_000_000) });
    expect(big.status).toBe(413);
    expect(await stack.store.getLeadByEmail("big@obscura.example")).toBeUndefined();

    const limited = await startTestStack({ rateLimit: { burst: 3, perSecond: 0.01 }, tableName: stack.tableName });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await post(`${limited.url}/v1/forms/newsletter/submissions`, { email: `rate-${i}-${randomUUID().slice(0, 6)}@obscura.example`, consent: true });
        statuses.push(res.status);
        if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      }
      expect(statuses.slice(0, 3).every((s) => s < 400)).toBe(true);
      expect(statuses.slice(3)).toEqual([429, 429]);
    } finally {
      await limited.stop();
    }
  });
});

describe("logs", () => {
  it("carry no lead address or name through a whole journey", { timeout: 60_000 }, async () => {
    const run = randomUUID().slice(0, 6);
    const emails = [`${PERSON.first.toLowerCase()}.${run}@obscura.example`, `qx-${run}@obscura.example`];
    const lead = (email: string) => demoLead(email, { firstName: PERSON.first, lastName: PERSON.last, company: PERSON.company, country: "US" });
    const demo = await post(`${stack.url}/v1/forms/demo-request/submissions`, lead(emails[0] as string));
    expect(demo.status).toBe(202);
    const { leadId } = (await demo.json()) as { leadId: string };
    const paper = await post(`${stack.url}/v1/forms/whitepaper/submissions`, { email: emails[1], firstName: PERSON.first, company: PERSON.company, title: "VP Data", consent: true });
    const { token } = (await paper.json()) as { token: string };
    // Invalid input, echoed nowhere: a bad email with a name in it.
    await post(`${stack.url}/v1/forms/demo-request/submissions`, lead(`${PERSON.last}-not-an-email`));
    await stack.bus.drain();
    for (let i = 0; i < 8; i++) expect((await post(`${stack.url}/dev/clock/advance`, { by: "PT6H" })).status).toBe(200);
    await post(`${stack.url}/v1/events`, { token, type: "page_view", url: "https://www.acme-analytics.example/pricing" });
    await stack.bus.drain();
    // The rep claims and closes the hand-off.
    const item = await stack.sales.getHandoff(leadId);
    expect(item?.item).toBeDefined();
    const rep = item?.item?.rep ?? "";
    const repToken = `Bearer ${await signHs256Token({ email: rep, roles: ["rep"] }, stack.authSecret)}`;
    const claim = await fetch(`${stack.url}/v1/sales/leads/${leadId}/claim`, { method: "POST", headers: { authorization: repToken } });
    expect(claim.status).toBe(200);
    const outcome = await fetch(`${stack.url}/v1/sales/leads/${leadId}/outcome`, {
      method: "POST",
      headers: { authorization: repToken, "content-type": "application/json" },
      body: JSON.stringify({ outcome: "lost", reason: "price" }),
    });
    expect(outcome.status).toBe(200);
    await stack.bus.drain();

    const secrets = [...emails, PERSON.first, PERSON.last, PERSON.company].map((s) => s.toLowerCase());
    const leaks = logLines.filter((line) => secrets.some((s) => line.toLowerCase().includes(s)));
    Object.assign(figures, { "log lines captured": logLines.length, "lines naming a lead": leaks.length });
    expect(logLines.length).toBeGreaterThan(5);
    expect(logLines.some((l) => l.includes(leadId))).toBe(true);
    expect(leaks.slice(0, 5)).toEqual([]);
  });
});

describe("IAM", () => {
  it("grants no wildcard action in any synthesised policy", { timeout: 120_000 }, async () => {
    process.env.LEADLOOP_SENDER ??= "Acme <hello@acme.example>";
    const { stacks } = await synthesize({ stage: "test" });
    const wildcards: string[] = [];
    let statements = 0;
    for (const [name, s] of Object.entries(stacks)) {
      const resources = Template.fromStack(s).toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
      for (const [id, resource] of Object.entries(resources)) {
        const documents: unknown[] = [];
        if (resource.Type === "AWS::IAM::Policy" || resource.Type === "AWS::IAM::ManagedPolicy") documents.push(resource.Properties?.PolicyDocument);
        if (resource.Type === "AWS::IAM::Role") {
          for (const p of (resource.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? []) documents.push(p.PolicyDocument);
        }
        for (const doc of documents) {
          for (const statement of (doc as { Statement?: { Action?: string | string[]; NotAction?: unknown; Effect?: string }[] }).Statement ?? []) {
            statements++;
            const actions = [statement.Action ?? []].flat();
            if (statement.NotAction) wildcards.push(`${name}/${id}: NotAction`);
            for (const action of actions) if (action.includes("*")) wildcards.push(`${name}/${id}: ${action}`);
          }
        }
      }
    }
    Object.assign(figures, { "IAM statements": statements, "wildcard actions": wildcards.length });
    expect(statements).toBeGreaterThan(5);
    expect(wildcards).toEqual([]);
  });
});

describe("hardening", () => {
  const pageFetch = (path: string) => fetch(`${stack.url}${path}`, { headers: { accept: "text/html" } });
  const scripts = (html: string) => [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
  const sha256 = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;

  it("pages send a strict CSP (inline scripts only by hash), frame-ancestors 'none' and nosniff", async () => {
    const lead = await post(`${stack.url}/v1/forms/demo-request/submissions`, demoLead(`csp-${randomUUID().slice(0, 6)}@obscura.example`));
    const { leadId } = (await lead.json()) as { leadId: string };
    const unsubscribe = new URL(unsubscribeUrl(stack.deps.settings, stack.signer, leadId, stack.clock.now()));
    const confirm = new URL(confirmUrl(stack.deps.settings, stack.signer, leadId, stack.clock.now()));
    const pages = ["/sales", "/reports", `/v1/unsubscribe${unsubscribe.search}`, `/v1/confirm${confirm.search}`, "/"];
    const wrong: string[] = [];
    for (const path of pages) {
      const res = await pageFetch(path);
      const html = await res.text();
      const csp = res.headers.get("content-security-policy") ?? "";
      const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? "";
      if (!res.headers.get("content-type")?.includes("text/html")) wrong.push(`${path}: not a page (${res.status})`);
      if (!/frame-ancestors 'none'/.test(csp)) wrong.push(`${path}: no frame-ancestors 'none' in "${csp}"`);
      if (!/default-src 'none'|default-src 'self'/.test(csp)) wrong.push(`${path}: no default-src`);
      if (/unsafe-inline|unsafe-eval|\*/.test(scriptSrc) || scriptSrc === "") wrong.push(`${path}: script-src "${scriptSrc}"`);
      for (const source of scripts(html)) if (!scriptSrc.includes(sha256(source))) wrong.push(`${path}: an inline script is not hashed`);
      if (res.headers.get("x-content-type-options") !== "nosniff") wrong.push(`${path}: no nosniff`);
    }
    expect(wrong).toEqual([]);
  });

  it("the sales and report pages do not take the token from the query string", async () => {
    for (const path of ["/sales", "/reports"]) {
      const html = await (await pageFetch(path)).text();
      expect(html, path).not.toMatch(/URLSearchParams\(location\.search\)[\s\S]{0,200}get\("token"\)|params\.get\("token"\)/);
    }
  });

  it("refuses Origin: null like any unlisted origin, on capture and on events", async () => {
    const email = `null-origin-${randomUUID().slice(0, 6)}@obscura.example`;
    const posted = await post(`${stack.url}/v1/forms/demo-request/submissions`, demoLead(email), { origin: "null" });
    expect(posted.status).toBe(403);
    expect(await stack.store.getLeadByEmail(email)).toBeUndefined();
    const events = await post(`${stack.url}/v1/events`, { token: "x.y", type: "page_view" }, { origin: "null" });
    expect(events.status).toBe(403);
  });

  it("deploys the local development origin only to stages that are not production", async () => {
    process.env.LEADLOOP_SENDER ??= "Acme <hello@acme.example>";
    const corsOf = async (stage: string) => {
      const { stacks } = await synthesize({ stage });
      const [api] = Object.values(Template.fromStack(stacks.ApiStack).findResources("AWS::ApiGatewayV2::Api"));
      const fn = Object.entries(Template.fromStack(stacks.ApiStack).findResources("AWS::Lambda::Function")).find(([id]) => id.startsWith("ApiFunction"));
      return { cors: (api?.Properties?.CorsConfiguration?.AllowOrigins ?? []) as string[], env: (fn?.[1].Properties?.Environment?.Variables ?? {}) as Record<string, string> };
    };
    const prod = await corsOf("prod");
    expect(prod.cors).not.toContain("http://localhost:3000");
    expect(prod.env.LEADLOOP_LOCAL_ORIGINS).toBe("refuse");
    const dev = await corsOf("dev");
    expect(dev.cors).toContain("http://localhost:3000");
    expect(dev.env.LEADLOOP_LOCAL_ORIGINS).toBeUndefined();
  }, 300_000);

  it("bearer tokens need an issuer and a bounded lifetime, and an unverified email claim identifies no one", async () => {
    const { SignJWT } = await import("jose");
    const key = new TextEncoder().encode(stack.authSecret);
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, exp: number, iss?: string) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setAudience("leadloop").setIssuedAt(now).setExpirationTime(exp);
      if (iss) jwt.setIssuer(iss);
      return jwt.sign(key);
    };
    const roles = { "leadloop:roles": ["admin"] };
    const noIssuer = await sign({ ...roles, sub: "ops@acme.example", email: "ops@acme.example", email_verified: true }, now + 3600);
    const tooLong = await sign({ ...roles, sub: "ops@acme.example", email: "ops@acme.example", email_verified: true }, now + 400 * 86_400, "leadloop");
    for (const token of [noIssuer, tooLong]) {
      const res = await fetch(`${stack.url}/v1/reports/funnel`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    // A rep of a team, claimed by an unverified email in a token whose subject is someone else.
    const rep = "dana.whitfield@acme-analytics.example";
    const unverified = await sign({ "leadloop:roles": ["rep"], sub: "user-4711", email: rep }, now + 3600, "leadloop");
    const verified = await sign({ "leadloop:roles": ["rep"], sub: "user-4712", email: rep, email_verified: true }, now + 3600, "leadloop");
    const queue = async (token: string) => (await fetch(`${stack.url}/v1/sales/queue`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<unknown>;
    expect(JSON.stringify(await queue(unverified))).not.toContain(rep);
    expect(JSON.stringify(await queue(verified))).toContain("North America");
    expect(await queue(verified)).not.toEqual(await queue(unverified));
  });

  it("bounds an outcome's amount (422 naming it), and another team's lead answers 404 like an unknown one", async () => {
    const lead = await post(`${stack.url}/v1/forms/demo-request/submissions`, demoLead(`amount-${randomUUID().slice(0, 6)}@obscura.example`, { country: "US" }));
    const { leadId } = (await lead.json()) as { leadId: string };
    await stack.bus.drain();
    for (let i = 0; i < 8; i++) await post(`${stack.url}/dev/clock/advance`, { by: "PT6H" });
    await stack.bus.drain();
    const handoff = await stack.sales.getHandoff(leadId);
    expect(handoff?.item).toBeDefined();
    const repOf = async (email: string) => `Bearer ${await signHs256Token({ email, roles: ["rep"] }, stack.authSecret)}`;
    const owner = await repOf(handoff?.item?.rep ?? "");
    expect((await fetch(`${stack.url}/v1/sales/leads/${leadId}/claim`, { method: "POST", headers: { authorization: owner } })).status).toBe(200);
    const huge = await fetch(`${stack.url}/v1/sales/leads/${leadId}/outcome`, {
      method: "POST",
      headers: { authorization: owner, "content-type": "application/json" },
      body: JSON.stringify({ outcome: "won", amount: 1e125, currency: "EUR" }),
    });
    expect(huge.status).toBe(422);
    expect(((await huge.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain("amount");

    const outsider = await repOf("nora.schmidt@acme-analytics.example");
    for (const [method, path] of [["GET", `/v1/leads/${leadId}`], ["POST", `/v1/sales/leads/${leadId}/claim`], ["POST", `/v1/sales/leads/${leadId}/outcome`]] as const) {
      const theirs = await fetch(`${stack.url}${path}`, { method, headers: { authorization: outsider, "content-type": "application/json" }, ...(method === "POST" ? { body: '{"outcome":"lost","reason":"price"}' } : {}) });
      const unknown = await fetch(`${stack.url}${path.replace(leadId, randomUUID())}`, { method, headers: { authorization: outsider, "content-type": "application/json" }, ...(method === "POST" ? { body: '{"outcome":"lost","reason":"price"}' } : {}) });
      expect(theirs.status, `${method} ${path}`).toBe(404);
      expect(theirs.status).toBe(unknown.status);
    }
  }, 60_000);

  it("refuses a 20 MB chunked event body after reading no more than the limit's worth", async () => {
    const { request } = await import("node:http");
    const written = await new Promise<{ status: number; bytes: number }>((resolve, reject) => {
      let bytes = 0;
      let done = false;
      const req = request(`${stack.url}/v1/events`, { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
        done = true;
        res.resume();
        resolve({ status: res.statusCode ?? 0, bytes });
        req.destroy();
      });
      req.on("error", (error) => (done ? undefined : reject(error)));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!done && bytes < 20 * 1024 * 1024) {
          bytes += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        if (!done) req.end();
      };
      pump();
    });
    expect(written.status).toBe(413);
    expect(written.bytes).toBeLessThan(4 * 1024 * 1024);
  });

  it("error logs carry the error's name and code, never the lead's name or company", async () => {
    const company = `Leakmore ${randomUUID().slice(0, 6)} GmbH`;
    const failing = await startTestStack({
      tableName: stack.tableName,
      wrapAdapters: (bare) => ({
        leads: new Proxy(bare.leads, {
          get(target, name) {
            const value = Reflect.get(target, name, target);
            if (name !== "captureSubmission") return typeof value === "function" ? value.bind(target) : value;
            return async () => {
              throw Object.assign(new Error(`One or more parameter values were invalid: company "${company}" for Quaxworthy`), { name: "ValidationException", code: "ValidationException" });
            };
          },
        }),
      }),
    });
    const lines: unknown[][] = [];
    const spy = vi.spyOn(failing.log, "error").mockImplementation((...args: unknown[]) => void lines.push(args));
    try {
      const res = await post(`${failing.url}/v1/forms/demo-request/submissions`, demoLead(`leak-${randomUUID().slice(0, 6)}@obscura.example`, { company, lastName: "Quaxworthy" }));
      expect(res.status).toBe(500);
      const logged = JSON.stringify(lines);
      expect(logged).toContain("ValidationException");
      expect(logged).not.toContain(company);
      expect(logged).not.toContain("Quaxworthy");
    } finally {
      spy.mockRestore();
      await failing.stop();
    }
  });
});
