/**
 * Routes that exist only in the local stack: the demo page, the emails the SES emulator caught,
 * and the virtual clock. None of this is deployed.
 */
import type { LeadloopConfig } from "@leadloop/core";
import { HttpProblem } from "@leadloop/api";
import { Hono } from "hono";
import { demoPage } from "./demo-page";
import type { VirtualClock } from "./virtual-clock";

export interface DevRouteDeps {
  config: LeadloopConfig;
  clock: VirtualClock;
  sesEndpoint: string;
  /** Runs whatever is due after the clock moved (the sweeper, SLA checks…). */
  afterAdvance: () => Promise<void>;
  /** Extra facts per SES message id (lead, sequence, step, tags) known to the store. */
  describeMessage?: (messageId: string) => Promise<Record<string, unknown> | undefined>;
}

interface EmulatorEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
  at: number;
}

export async function fetchEmulatorEmails(sesEndpoint: string): Promise<EmulatorEmail[]> {
  const res = await fetch(`${sesEndpoint}/store`);
  if (!res.ok) throw new Error(`SES emulator answered ${res.status}`);
  return ((await res.json()) as { emails: EmulatorEmail[] }).emails;
}

function invalidBy(message: string): HttpProblem {
  return new HttpProblem(422, "validation", "Some fields are not valid", `by: ${message}`, {}, {
    errors: [{ field: "by", message }],
  });
}

export function devRoutes(deps: DevRouteDeps): Hono {
  const app = new Hono();

  app.get("/", (c) => {
    const formIds = Object.keys(deps.config.forms);
    const requested = c.req.query("form");
    const formId = requested && formIds.includes(requested) ? requested : (formIds[0] ?? "");
    return c.html(demoPage(deps.config.forms, formId, c.req.query("leadloop_error")));
  });

  app.get("/thanks", (c) =>
    c.html(
      `<!doctype html><meta charset="utf-8"><title>Thank you</title><body style="font-family:system-ui;max-width:560px;margin:60px auto"><h1>Thank you!</h1><p>Your submission was received. In AWS this page is the form's thankYouUrl from config/forms.yaml.</p><p><a href="/">Back to the forms</a> · <a href="/dev/emails">Emails sent</a></p></body>`,
    ),
  );

  app.get("/dev/emails", async (c) => {
    const emails = await fetchEmulatorEmails(deps.sesEndpoint);
    const to = c.req.query("to")?.toLowerCase();
    const out = [];
    for (const e of emails) {
      if (to && !e.destination.to.some((t) => t.toLowerCase() === to)) continue;
      const headers = Object.fromEntries((e.headers ?? []).map((h) => [h.name, h.value]));
      out.push({
        messageId: e.messageId,
        from: e.from,
        to: e.destination.to,
        subject: e.subject,
        html: e.body.html ?? "",
        text: e.body.text ?? "",
        headers,
        sentAt: new Date(e.at * 1000).toISOString(),
        ...((await deps.describeMessage?.(e.messageId)) ?? {}),
      });
    }
    return c.json(out);
  });

  app.get("/dev/clock", (c) => c.json({ now: deps.clock.now().toISOString(), offsetMs: deps.clock.offsetMs }));

  app.post("/dev/clock/advance", async (c) => {
    let by: unknown;
    try {
      by = ((await c.req.json()) as { by?: unknown }).by;
    } catch {
      by = undefined;
    }
    if (typeof by !== "string") throw invalidBy('send {"by":"P2D"}, an ISO 8601 duration such as P2D or PT3H');
    let now: Date;
    try {
      now = deps.clock.advance(by);
    } catch (error) {
      throw invalidBy((error as Error).message);
    }
    await deps.afterAdvance();
    return c.json({ now: now.toISOString() });
  });

  return app;
}
