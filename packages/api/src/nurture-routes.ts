/**
 * Links from emails: one-click unsubscribe (RFC 8058) and double opt-in confirmation. A person
 * gets a page; a mail client's one-click POST gets a plain answer. A bad token gets a clear page.
 * A confirmation link only shows a page with a button: mail scanners fetch every link in an
 * email, so a GET that confirmed would confirm addresses nobody ever looked at.
 */
import { confirmLead, findConfirmable, findUnsubscriber, InvalidTokenError, maskEmail, unsubscribeLead } from "@leadloop/core";
import { type Context, Hono } from "hono";
import type { PublicAppDeps } from "./app-shell";
import { esc, page } from "./pages";
import { HttpProblem, problemResponse } from "./problem";

function tokenOf(c: Context): string {
  const token = c.req.query("token");
  if (!token) {
    throw new HttpProblem(400, "validation", "Missing token", "token: the link is incomplete; open the full link from the email.", {}, {
      errors: [{ field: "token", message: "is required" }],
    });
  }
  return token;
}

const wantsHtml = (c: Context) => (c.req.header("accept") ?? "").includes("text/html");

function badLink(c: Context, error: unknown): Response {
  if (!(error instanceof InvalidTokenError) && !(error instanceof HttpProblem)) throw error;
  if (!wantsHtml(c)) return problemResponse(c, error);
  const why = error instanceof InvalidTokenError && error.reason === "expired" ? "This link has expired." : "This link is not valid: it may have been cut or altered.";
  return c.html(
    page("This link does not work", `<p>${esc(why)}</p><p class="muted">To stop our emails, use the unsubscribe link in the newest email you received, or reply to it and we will remove you.</p>`),
    400,
  );
}

export function nurtureRoutes(deps: PublicAppDeps): Hono {
  const app = new Hono();

  app.get("/v1/unsubscribe", async (c) => {
    try {
      const token = tokenOf(c);
      const lead = await findUnsubscriber(deps, token);
      const who = lead ? `<strong>${esc(maskEmail(lead.email))}</strong>` : "this address";
      return c.html(
        page(
          "Unsubscribe?",
          `<p>Stop all marketing emails to ${who}?</p>
<form method="post" action="/v1/unsubscribe?token=${esc(encodeURIComponent(token))}"><button type="submit">Unsubscribe</button></form>
<p class="muted">You will stop receiving our nurture emails at once.</p>`,
        ),
      );
    } catch (error) {
      return badLink(c, error);
    }
  });

  app.post("/v1/unsubscribe", async (c) => {
    try {
      await unsubscribeLead(deps, tokenOf(c));
    } catch (error) {
      return badLink(c, error);
    }
    if (wantsHtml(c)) return c.html(page("You are unsubscribed", "<p>You will not receive any more marketing emails from us.</p>"));
    return c.json({ unsubscribed: true });
  });

  app.get("/v1/confirm", async (c) => {
    try {
      const token = tokenOf(c);
      const lead = await findConfirmable(deps, token);
      if (lead.stage !== "pending-confirmation") return c.html(page("Already confirmed", "<p>Your subscription is already confirmed. Thank you!</p>"));
      return c.html(
        page(
          "Confirm your subscription",
          `<p>Confirm that <strong>${esc(maskEmail(lead.email))}</strong> wants our emails?</p>
<form method="post" action="/v1/confirm?token=${esc(encodeURIComponent(token))}"><button type="submit">Confirm my subscription</button></form>
<p class="muted">If you did not ask for this, ignore it: nothing is sent until you confirm, and we delete the request when the link expires.</p>`,
        ),
      );
    } catch (error) {
      return badLink(c, error);
    }
  });

  app.post("/v1/confirm", async (c) => {
    try {
      await confirmLead(deps, tokenOf(c));
    } catch (error) {
      return badLink(c, error);
    }
    if (!wantsHtml(c)) return c.json({ confirmed: true });
    return c.html(page("Subscription confirmed", "<p>Thank you: your subscription is confirmed.</p>"));
  });

  return app;
}
