import { request } from "node:http";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoLead, post, startTestStack } from "./local-stack";

let stack: LocalStack;
const capture = (formId: string) => `${stack.url}/v1/forms/${formId}/submissions`;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe("capture over HTTP on the local stack", () => {
  it("stores a JSON submission, answers 202 with a lead id and token, and announces lead.captured", async () => {
    const res = await post(capture("demo-request"), demoLead("ada@engines.example"), { origin: "http://localhost:3000" });
    expect(res.status).toBe(202);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    const body = (await res.json()) as { leadId: string; token: string };
    expect(body.leadId).toMatch(/^[0-9a-f-]{36}$/);
    expect(stack.signer.verify(body.token, "lead", new Date()).sub).toBe(body.leadId);

    const lead = await stack.store.getLead(body.leadId);
    expect(lead?.email).toBe("ada@engines.example");
    expect(lead?.profile.title).toBe("VP Engineering");
    expect(lead?.segment).toBe("enterprise");
    expect(lead?.consents[0]).toMatchObject({ formId: "demo-request", given: true });
    await stack.bus.drain();
    const event = stack.bus.history.find((e) => (e.detail as { leadId?: string }).leadId === body.leadId);
    expect(event?.["detail-type"]).toBe("lead.captured");
    expect(event?.detail).toMatchObject({ segment: "enterprise", formId: "demo-request" });
  });

  it("redirects a browser form post (urlencoded) to the thank-you page with 303", async () => {
    const form = new URLSearchParams({ email: "Grace@Navy.example ", firstName: "Grace", company: "Navy", title: "Rear Admiral", consent: "on", utm_source: "newsletter" });
    const res = await fetch(capture("whitepaper"), { method: "POST", body: form, redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${stack.url}/thanks`);
    const lead = await stack.store.getLeadByEmail("grace@navy.example");
    expect(lead?.profile.firstName).toBe("Grace");
    expect(lead?.firstTouch.utm_source).toBe("newsletter");
  });

  it("accepts multipart/form-data from fetch with FormData and answers JSON when asked", async () => {
    const form = new FormData();
    form.set("email", "linus@kernel.example");
    form.set("firstName", "Linus");
    form.set("consent", "on");
    const res = await fetch(capture("newsletter"), { method: "POST", body: form, headers: { accept: "application/json" } });
    expect(res.status).toBe(202);
    const { leadId } = (await res.json()) as { leadId: string };
    expect((await stack.store.getLead(leadId))?.email).toBe("linus@kernel.example");
  });

  it("merges a second submission of the same address into one lead", async () => {
    const first = (await (await post(capture("demo-request"), demoLead("merge@acme.example", { phone: "+1 555 0100" }))).json()) as { leadId: string; token: string };
    // From the lead's own browser (it sends back its lead token), so it may correct the title.
    const again = demoLead(" MERGE@acme.example", { title: "CTO", phone: "", leadToken: first.token });
    const second = (await (await post(capture("demo-request"), again)).json()) as { leadId: string };
    expect(second.leadId).toBe(first.leadId);
    const lead = await stack.store.getLead(first.leadId);
    expect(lead?.profile.title).toBe("CTO");
    expect(lead?.profile.phone).toBe("+1 555 0100");
    const history = await stack.store.listActivities(first.leadId);
    expect(history.filter((a) => a.type === "form.submitted")).toHaveLength(2);
    expect(JSON.stringify(history)).toContain("VP Engineering");
  });

  it("keeps one lead when 50 submissions of one address race", async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => post(capture("demo-request"), demoLead("race@acme.example", { lastName: `L${i}` }))),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
    const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { leadId: string }).leadId)));
    expect(ids.size).toBe(1);
    const [leadId] = [...ids];
    const activities = await stack.store.listActivities(leadId!, { limit: 100 });
    expect(activities.filter((a) => a.type === "form.submitted")).toHaveLength(50);
  });

  it("answers 202 to a filled honeypot and stores nothing", async () => {
    const res = await post(capture("demo-request"), demoLead("bot@spam.example", { website: "http://spam.example" }));
    expect(res.status).toBe(202);
    expect(((await res.json()) as { leadId: string }).leadId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await stack.store.getLeadByEmail("bot@spam.example")).toBeUndefined();
  });
});

describe("capture errors are problem+json that say what to do", () => {
  async function problem(res: Response) {
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    return (await res.json()) as { status: number; detail: string; errors?: { field: string; message: string }[] };
  }

  it("404 for an unknown form", async () => {
    const res = await post(capture("no-such-form"), { email: "a@b.example" });
    expect(res.status).toBe(404);
    expect((await problem(res)).detail).toContain("no-such-form");
  });

  it("422 naming each invalid field", async () => {
    const res = await post(capture("demo-request"), { email: "not-an-email", companySize: "lots", consent: false });
    expect(res.status).toBe(422);
    const body = await problem(res);
    const fields = body.errors?.map((e) => e.field) ?? [];
    expect(fields).toEqual(expect.arrayContaining(["email", "companySize", "consent", "firstName"]));
    expect(body.detail).toContain("email");
  });

  it("400 for malformed JSON", async () => {
    const res = await post(capture("demo-request"), "{ not json");
    expect(res.status).toBe(400);
    expect((await problem(res)).detail).toMatch(/JSON/);
  });

  it("415 for an unsupported content type", async () => {
    const res = await fetch(capture("demo-request"), { method: "POST", headers: { "content-type": "text/plain" }, body: "email=a@b.example" });
    expect(res.status).toBe(415);
    expect((await problem(res)).detail).toContain("application/json");
  });

  it("413 for a body over 16 KiB", async () => {
    const res = await post(capture("demo-request"), demoLead("big@acme.example", { company: "x".repeat(17 * 1024) }));
    expect(res.status).toBe(413);
    await problem(res);
  });

  it("413 for a streamed body (no Content-Length) once it passes 16 KiB, and answers the next post", async () => {
    const chunk = `{"email":"streamed@acme.example","company":"${"x".repeat(4 * 1024)}`;
    // Its own connection (the server closes it, having not read the rest), written chunk by chunk.
    const { status, body } = await new Promise<{ status: number; body: string }>((done, fail) => {
      const req = request(capture("demo-request"), { method: "POST", agent: false, headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
        let text = "";
        res.on("data", (part) => {
          text += part;
        });
        res.on("end", () => done({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", fail);
      for (let i = 0; i < 64; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
    expect((JSON.parse(body) as { detail: string }).detail).toContain("16 KiB");
    const next = await post(capture("demo-request"), demoLead("after-streamed@acme.example"));
    expect(next.status).toBe(202);
  });

  it("redirects an invalid browser post back to the form with the error", async () => {
    const res = await fetch(capture("demo-request"), {
      method: "POST",
      body: new URLSearchParams({ email: "nope" }),
      headers: { referer: `${stack.url}/?form=demo-request`, origin: stack.url },
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!);
    expect(location.pathname).toBe("/");
    expect(location.searchParams.get("leadloop_fields")).toContain("email");
    expect(location.searchParams.get("leadloop_error")).toContain("email");
  });

  it("answers CORS preflight for allowed origins and refuses others", async () => {
    const ok = await fetch(capture("demo-request"), {
      method: "OPTIONS",
      headers: { origin: "http://localhost:3000", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(ok.headers.get("access-control-allow-methods")).toContain("POST");

    const denied = await fetch(capture("demo-request"), { method: "OPTIONS", headers: { origin: "https://evil.example" } });
    expect(denied.status).toBe(403);
    const posted = await post(capture("demo-request"), demoLead("cors@acme.example"), { origin: "https://evil.example" });
    expect(posted.status).toBe(403);
    expect(await stack.store.getLeadByEmail("cors@acme.example")).toBeUndefined();
  });

  it("429 with Retry-After over the per-address rate limit", async () => {
    const limited = await startTestStack({ rateLimit: { burst: 3, perSecond: 0.01 } });
    try {
      const url = `${limited.url}/v1/forms/newsletter/submissions`;
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 5; i++) {
        last = await post(url, { email: `rl${i}@acme.example`, consent: true });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([202, 202, 202, 429, 429]);
      expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await problem(last!)).detail).toMatch(/Try again in \d+ seconds/);
    } finally {
      await limited.stop();
    }
  });

  it("serves the health check", async () => {
    const res = await fetch(`${stack.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});
