/**
 * Hostile input: property-based fuzzing of every public route. Whatever arrives, the API never
 * answers 5xx, every error is problem+json with a detail (422s name the field), no redirect leaves
 * for a foreign origin, and no header-injection payload ever becomes an email header.
 * Short in `npm test`; `npm run reliability:hostile` sends 10,000 generated requests.
 */
import { randomUUID } from "node:crypto";
import { expiresIn } from "@leadloop/core";
import type { LocalStack } from "@leadloop/local";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../e2e/local-stack";
import { FORM_IDS, type HostileCase, hostileCase, injectionExamples, type TokenFactory } from "./hostile-requests";
import { type RawResponse, rawRequest } from "./raw-http";
import { printFigures, sized } from "./size";

const REQUESTS = sized(1_000, 10_000);

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ rateLimit: { burst: 1_000_000, perSecond: 1_000_000 }, tickEveryMs: 60_000 });
});
afterAll(async () => {
  await stack?.stop();
});

/** Leads the run has stored (from 202 answers), so link and event tokens can name real ones. */
const accepted: string[] = [];

const tokens: TokenFactory = (kind, purpose) => {
  const now = stack.clock.now();
  const sign = (sub: string, p: "unsubscribe" | "confirm" | "lead", days: number) => stack.signer.sign({ sub, purpose: p, exp: expiresIn(now, days) });
  switch (kind) {
    case "missing":
      return undefined;
    case "empty":
      return "";
    case "random":
      return randomUUID();
    case "tampered": {
      const t = sign(randomUUID(), purpose, 10);
      return `${t.slice(0, 5)}${t[5] === "A" ? "B" : "A"}${t.slice(6)}`;
    }
    case "expired":
      return sign(randomUUID(), purpose, -1);
    case "wrong-purpose":
      return sign(randomUUID(), purpose === "lead" ? "unsubscribe" : "lead", 10);
    case "valid-unknown-lead":
      return sign(randomUUID(), purpose, 10);
    case "valid-known-lead":
      return sign(accepted[Math.floor(Math.random() * accepted.length)] ?? randomUUID(), purpose, 10);
    case "huge":
      return "a.".repeat(1500);
    case "bad-escape":
      return "%E0%A4%A.%ZZ";
  }
};

/** Where a redirect may lead: the stack itself, and the origins and thank-you pages of forms. */
function allowedRedirectOrigins(): Set<string> {
  const origins = new Set([new URL(stack.url).origin]);
  for (const form of Object.values(stack.config.forms)) {
    origins.add(new URL(form.thankYouUrl).origin);
    for (const o of form.allowedOrigins) origins.add(new URL(o).origin);
  }
  return origins;
}

/** What the case sent as field names: its own list, plus the keys of a JSON object body. */
function sentKeys(c: HostileCase): string[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(c.body ?? []).toString("utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return [...c.sent, ...Object.keys(parsed)];
  } catch {
    // Not JSON: the generator's list is all there is.
  }
  return c.sent;
}

/** Field names a 422 may name for this case: the form's fields, consent, the link token, or what was sent. */
function nameableFields(c: HostileCase): Set<string> {
  const names = new Set(["consent", "token", ...sentKeys(c)]);
  if (c.route === "events") for (const name of ["type", "url", "title", "body"]) names.add(name);
  const form = c.formId && Object.hasOwn(stack.config.forms, c.formId) ? stack.config.forms[c.formId] : undefined;
  for (const name of Object.keys(form?.fields ?? {})) names.add(name);
  return names;
}

const header = (res: RawResponse, name: string) => {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(", ") : (v ?? "");
};

/** The encodings the capture route reads; others are refused (415) before the body is read. */
function acceptedType(contentType: string | undefined): boolean {
  const media = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return media === "application/json" || media.endsWith("+json") || media === "application/x-www-form-urlencoded" || media === "multipart/form-data";
}

/** Checks one answer; returns what is wrong with it, or nothing. */
function verdict(c: HostileCase, res: RawResponse): string | undefined {
  if (res.status >= 500 || res.status < 100) return `answered ${res.status}: ${res.text().slice(0, 300)}`;
  const knownForm = c.formId !== undefined && (FORM_IDS as readonly string[]).includes(c.formId);
  if ((c.route === "capture" || c.route === "preflight") && c.formId !== undefined && !knownForm && res.status !== 404) {
    return `unknown form ${c.formId} answered ${res.status}`;
  }
  if (c.route === "capture" && knownForm && acceptedType(c.headers["content-type"]) && (c.body?.byteLength ?? 0) > 16 * 1024 && ![403, 413].includes(res.status)) {
    return `a ${c.body?.byteLength}-byte body answered ${res.status}, not 413`;
  }
  if (res.status >= 300 && res.status < 400) {
    const location = header(res, "location");
    if (!URL.canParse(location)) return `redirect to an unparsable location ${JSON.stringify(location)}`;
    if (!allowedRedirectOrigins().has(new URL(location).origin)) return `open redirect to ${location}`;
    return undefined;
  }
  if (res.status < 400 || c.method === "HEAD") return undefined;

  const type = header(res, "content-type");
  const isLink = c.route === "unsubscribe" || c.route === "confirm";
  // A person who opens a broken link from an email gets a page; scripts get problem+json.
  if (isLink && (c.headers.accept ?? "").includes("text/html") && type.startsWith("text/html")) return undefined;
  if (!type.startsWith("application/problem+json")) return `${res.status} with content-type ${JSON.stringify(type)}: ${res.text().slice(0, 200)}`;
  let problem: { status?: unknown; detail?: unknown; errors?: unknown };
  try {
    problem = res.json() as typeof problem;
  } catch {
    return `${res.status} problem+json that is not JSON: ${res.text().slice(0, 200)}`;
  }
  if (typeof problem.detail !== "string" || problem.detail.trim() === "") return `${res.status} problem without a detail`;
  if (problem.status !== res.status) return `problem status ${String(problem.status)} on a ${res.status} answer`;
  if (res.status === 422) {
    const errors = problem.errors;
    if (!Array.isArray(errors) || errors.length === 0) return "422 without errors[]";
    const allowed = nameableFields(c);
    for (const e of errors as { field?: unknown; message?: unknown }[]) {
      // An empty key is a field name too, when that is what was sent.
      if (typeof e.field !== "string" || (e.field === "" && !sentKeys(c).includes(""))) return `422 error without a field: ${JSON.stringify(e)}`;
      if (typeof e.message !== "string" || e.message === "") return `422 error on ${e.field} without a message`;
      if (!allowed.has(e.field)) return `422 names ${JSON.stringify(e.field)}, which is neither a field of the form nor sent`;
    }
  }
  return undefined;
}

describe(`hostile input: ${REQUESTS} generated requests over every public route`, () => {
  it("never answers 5xx, always explains errors as problem+json, and never lets a header be injected", { timeout: sized(180_000, 1_800_000) }, async () => {
    const byRoute = new Map<string, Map<number, number>>();
    const injected = new Set<string>();
    let sent = 0;
    const send = async (c: HostileCase) => {
      const self = (v: string | undefined) => v?.replace(/^SELF/, stack.url);
      const headers = { ...c.headers };
      for (const name of ["origin", "referer"] as const) if (headers[name]) headers[name] = self(headers[name]) as string;
      const res = await rawRequest({ url: `${stack.url}${c.path}`, method: c.method, headers, ...(c.body ? { body: c.body } : {}) });
      sent++;
      const counts = byRoute.get(c.route) ?? new Map<number, number>();
      counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
      byRoute.set(c.route, counts);
      if (c.injectedEmail && res.status === 202) injected.add(c.injectedEmail);
      if (c.route === "capture" && res.status === 202) {
        const leadId = (res.json() as { leadId?: unknown }).leadId;
        if (typeof leadId === "string") accepted.push(leadId);
      }
      return res;
    };

    const examples = injectionExamples();
    for (const c of examples) {
      const res = await send(c);
      expect(verdict(c, res), `${c.method} ${c.path}`).toBeUndefined();
    }
    await fc.assert(
      fc.asyncProperty(hostileCase(tokens), async (c) => {
        const res = await send(c);
        const wrong = verdict(c, res);
        // What went wrong first: long generated paths and bodies would push it out of sight.
        if (wrong) throw new Error(`${wrong} ← ${c.method} ${c.path.slice(0, 300)} ${JSON.stringify(c.headers)} body=${JSON.stringify(c.body ? Buffer.from(c.body).toString("latin1").slice(0, 300) : undefined)}`);
      }),
      { numRuns: REQUESTS - examples.length, seed: process.env.RELIABILITY_SEED ? Number(process.env.RELIABILITY_SEED) : undefined },
    );

    // Send what is due: accepted leads carrying payloads now get their welcome emails. Quarter-day
    // steps: the virtual clock keeps the real time of day and sweeps run where an advance lands,
    // so one four-day jump taken in the evening would miss every send window.
    for (let i = 0; i < 16; i++) {
      const advanced = await fetch(`${stack.url}/dev/clock/advance`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"by":"PT6H"}' });
      expect(advanced.status).toBe(200);
    }
    const store = (await (await fetch(`${stack.sesEndpoint}/store`)).json()) as {
      emails: { from: string; destination: { to: string[]; cc: string[]; bcc: string[] }; subject: string; headers?: { name: string; value: string }[] }[];
    };
    const ours = store.emails.filter((e) => e.destination.to.some((t) => t.startsWith("fuzz-")));
    const injectedEmails = ours.filter((e) => e.destination.to.some((t) => injected.has(t)));
    const problems: string[] = [];
    for (const e of ours) {
      const where = `email to ${e.destination.to.join(",")} (${JSON.stringify(e.subject)})`;
      if (e.destination.to.length !== 1 || e.destination.cc.length + e.destination.bcc.length > 0) problems.push(`${where}: extra recipients`);
      if (/[\r\n]/.test(e.subject) || /[\r\n]/.test(e.from)) problems.push(`${where}: line break in a header`);
      for (const h of e.headers ?? []) {
        if (!["List-Unsubscribe", "List-Unsubscribe-Post"].includes(h.name)) problems.push(`${where}: unexpected header ${h.name}`);
        if (/[\r\n]/.test(h.value)) problems.push(`${where}: line break in ${h.name}`);
      }
    }

    const statusLines = [...byRoute].map(([route, counts]) => [route, [...counts].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ")] as const);
    printFigures("hostile", {
      requests: sent,
      "5xx": [...byRoute.values()].reduce((n, m) => n + [...m].filter(([s]) => s >= 500).reduce((k, [, v]) => k + v, 0), 0),
      ...Object.fromEntries(statusLines),
      "accepted leads with injection payloads": injected.size,
      "their emails checked": injectedEmails.length,
      "fuzz emails checked": ours.length,
      "header problems": problems.length,
    });
    expect(problems).toEqual([]);
    // The check above is not vacuous: payloads that pass validation did reach an email.
    expect(injectedEmails.length).toBeGreaterThan(0);
  });
});
