/**
 * Routes that exist only in the local stack: the demo page, the emails the SES emulator caught,
 * and the virtual clock. None of this is deployed.
 */
import type { EventEnvelope, LeadloopConfig } from "@leadloop/core";
import { HttpProblem } from "@leadloop/api";
import type { DeadLetter } from "@leadloop/events";
import { Hono } from "hono";
import { demoPage } from "./demo-page";
import { firstLink, isSesAction, SES_ACTIONS, sesEngagementEvent } from "./ses-event-injector";
import type { VirtualClock } from "./virtual-clock";

export interface DevRouteDeps {
  config: LeadloopConfig;
  clock: VirtualClock;
  sesEndpoint: string;
  /** Moves the clock and runs whatever falls due on the way (every job at every due moment). */
  advance: (by: string) => Promise<{ now: string; moments: number; failedRuns: number }>;
  /** The local bus's dead letters, and their redrive through the same handlers. */
  deadLetters?: {
    list: () => readonly DeadLetter[];
    redrive: (ids?: readonly string[]) => Promise<{ redriven: number; failed: number; unknownRule: number }>;
  };
  /** Extra facts per SES message id (lead, sequence, step, tags) known to the store. */
  describeMessage?: (messageId: string) => Promise<Record<string, unknown> | undefined>;
  /** Puts SES-shaped engagement events on the local bus (POST /dev/emails/{messageId}/{action}). */
  sesEvents?: {
    configurationSet: string;
    /** The tags the sender set on this SES message (lead, sequence, step, message), if known. */
    tagsOf: (messageId: string) => Promise<Record<string, string> | undefined>;
    put: (event: EventEnvelope) => void;
  };
  /** The running config's version and when it was loaded (GET /dev/config), e.g. to wait for a hot reload. */
  configStatus?: () => unknown;
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
    return c.html(demoPage(deps.config.forms, formId, c.req.query("leadloop_error"), `${deps.sesEndpoint}/`));
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

  app.post("/dev/emails/:messageId/:action", async (c) => {
    const sesEvents = deps.sesEvents;
    const action = c.req.param("action");
    if (!sesEvents || !isSesAction(action)) {
      throw new HttpProblem(404, "unknown-action", "Unknown action", `action: "${action}" is not an SES event this route injects; use one of ${SES_ACTIONS.join(", ")}.`, {}, {
        errors: [{ field: "action", message: `must be one of ${SES_ACTIONS.join(", ")}` }],
      });
    }
    const messageId = c.req.param("messageId");
    const email = (await fetchEmulatorEmails(deps.sesEndpoint)).find((e) => e.messageId === messageId);
    if (!email) {
      throw new HttpProblem(404, "unknown-message", "Unknown message", `There is no email with SES message id "${messageId}"; GET /dev/emails lists them.`);
    }
    let options: { link?: unknown; bounceType?: unknown } = {};
    if ((c.req.header("content-type") ?? "").includes("json")) {
      try {
        options = ((await c.req.json()) ?? {}) as typeof options;
      } catch {
        options = {};
      }
    }
    if (options.link !== undefined && (typeof options.link !== "string" || !URL.canParse(options.link))) {
      throw new HttpProblem(422, "validation", "Some fields are not valid", "link: must be an absolute URL", {}, { errors: [{ field: "link", message: "must be an absolute URL" }] });
    }
    if (options.bounceType !== undefined && options.bounceType !== "Permanent" && options.bounceType !== "Transient") {
      throw new HttpProblem(422, "validation", "Some fields are not valid", "bounceType: must be Permanent or Transient", {}, {
        errors: [{ field: "bounceType", message: "must be Permanent or Transient" }],
      });
    }
    const html = email.body.html ?? "";
    const text = email.body.text ?? "";
    const event = sesEngagementEvent({
      action,
      email: {
        messageId,
        from: email.from,
        to: email.destination.to,
        subject: email.subject,
        headers: email.headers ?? [],
        sentAt: new Date(email.at * 1000).toISOString(),
      },
      tags: (await sesEvents.tagsOf(messageId)) ?? {},
      configurationSet: sesEvents.configurationSet,
      now: deps.clock.now(),
      ...(action === "click" ? { link: (options.link as string | undefined) ?? firstLink(html, text) ?? `${new URL(c.req.url).origin}/` } : {}),
      ...(options.bounceType ? { bounceType: options.bounceType } : {}),
    });
    sesEvents.put(event);
    return c.json(event, 202);
  });

  app.get("/dev/config", (c) => {
    if (!deps.configStatus) throw new HttpProblem(404, "not-found", "Not found", "This stack does not report its config.");
    return c.json(deps.configStatus());
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
    try {
      return c.json(await deps.advance(by));
    } catch (error) {
      if (error instanceof RangeError) throw invalidBy(error.message);
      throw error;
    }
  });

  app.get("/dev/dead-letters", (c) => c.json(deps.deadLetters?.list() ?? []));

  app.post("/dev/dead-letters/redrive", async (c) => {
    if (!deps.deadLetters) throw new HttpProblem(404, "not-found", "Not found", "This stack keeps no dead letters.");
    let ids: unknown;
    if ((c.req.header("content-type") ?? "").includes("json")) {
      try {
        ids = ((await c.req.json()) as { ids?: unknown } | null)?.ids;
      } catch {
        ids = undefined;
      }
    }
    if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => typeof id === "string"))) {
      throw new HttpProblem(422, "validation", "Some fields are not valid", "ids: must be a list of dead-letter ids from GET /dev/dead-letters", {}, {
        errors: [{ field: "ids", message: "must be a list of dead-letter ids" }],
      });
    }
    const report = await deps.deadLetters.redrive(ids as string[] | undefined);
    return c.json({ ...report, left: deps.deadLetters.list().length });
  });

  return app;
}
