/**
 * The post-deploy smoke test: one test lead through a stage's public path, from the form to the
 * first email, then unsubscribed through the one-click route and erased. Each step reports what
 * it saw; a failed step says what to check. The lead is erased even when a middle step fails, so
 * a failing run leaves nothing behind.
 *
 * Locally (the stack answers /dev/clock) the clock is advanced and the email is read from the SES
 * emulator, link and all. Deployed, the email goes to SES's mailbox simulator, so the run waits
 * for the lead's `email.sent` activity in the GDPR export, and builds the unsubscribe link the
 * email carries with the stage's token-signing key.
 */
import { randomUUID } from "node:crypto";
import { expiresIn, TokenSigner } from "@leadloop/core";

export interface SmokeOptions {
  url: string;
  /** A bearer token with the admin role (export and erase). */
  adminToken: string;
  /** The stage's TOKEN_SIGNING_KEY: deployed, the unsubscribe link is signed with it. */
  signingKey?: string;
  form?: string;
  /** How long to wait for the first email when deployed. */
  timeoutMs?: number;
  pollMs?: number;
  fetch?: typeof fetch;
}

export interface SmokeStep {
  step: string;
  ok: boolean;
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

export interface SmokeResult {
  ok: boolean;
  local: boolean;
  email: string;
  steps: SmokeStep[];
}

class StepFailed extends Error {
  override readonly name = "StepFailed";
  constructor(
    detail: string,
    readonly fix: string,
  ) {
    super(detail);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SES's mailbox simulator accepts a label after `+`, so each run is a new lead. */
export function smokeAddress(run: string): string {
  return `success+smoke-${run}@simulator.amazonses.com`;
}

export async function runSmoke(options: SmokeOptions, report: (step: SmokeStep) => void = () => {}): Promise<SmokeResult> {
  const http = options.fetch ?? fetch;
  const base = options.url.replace(/\/+$/, "");
  const form = options.form ?? "whitepaper";
  const email = smokeAddress(`${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`);
  const admin = { authorization: `Bearer ${options.adminToken}` };
  const steps: SmokeStep[] = [];
  let leadId: string | undefined;
  let local = false;

  const step = async (name: string, run: () => Promise<string>): Promise<boolean> => {
    let result: SmokeStep;
    try {
      result = { step: name, ok: true, detail: await run() };
    } catch (error) {
      result =
        error instanceof StepFailed
          ? { step: name, ok: false, detail: error.message, fix: error.fix }
          : { step: name, ok: false, detail: `${(error as Error).name}: ${(error as Error).message}`, fix: `check that ${base} is reachable from here` };
    }
    steps.push(result);
    report(result);
    return result.ok;
  };
  const expectStatus = async (res: Response, want: number[], fix: string) => {
    if (want.includes(res.status)) return;
    const body = (await res.text()).slice(0, 300);
    throw new StepFailed(`${res.status} ${body}`, fix);
  };

  const proceed =
    (await step("health", async () => {
      const res = await http(`${base}/health`);
      await expectStatus(res, [200], "the URL is not a leadloop API: use the ApiUrl output of `npx sst deploy`");
      local = (await http(`${base}/dev/clock`).catch(() => undefined))?.status === 200;
      return `200 (${local ? "local stack: the clock and the SES emulator are driven" : "deployed stage"})`;
    })) &&
    (await step("submit", async () => {
      const res = await http(`${base}/v1/forms/${encodeURIComponent(form)}/submissions`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ email, firstName: "Smoke", company: "Smoke Test", title: "Operator", consent: true }),
      });
      await expectStatus(res, [202], `the form "${form}" must exist in config/forms.yaml with email, firstName, company and title fields; pass another with --form`);
      leadId = ((await res.json()) as { leadId?: string }).leadId;
      if (!leadId) throw new StepFailed("202 without a leadId", "the capture route answered oddly: check the API function's logs");
      return `202, lead ${leadId} (${email})`;
    }));

  let unsubscribeLink: string | undefined;
  const emailed =
    proceed &&
    (await step("first email", async () => {
      if (local) {
        // Quarter days, as a person watching the clock would: each advance sends what fell due.
        for (let quarter = 0; quarter < 56; quarter++) {
          const res = await http(`${base}/dev/emails?to=${encodeURIComponent(email)}`);
          const emails = (await res.json()) as { subject: string; headers: Record<string, string> }[];
          const first = emails[0];
          if (first) {
            unsubscribeLink = /<(https?:[^>]+)>/.exec(first.headers["List-Unsubscribe"] ?? "")?.[1];
            return `"${first.subject}" after ${quarter * 6} virtual hour(s)`;
          }
          await http(`${base}/dev/clock/advance`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ by: "PT6H" }) });
        }
        throw new StepFailed("no email within 14 virtual days", `the lead's segment must have a sequence whose first step sends: check config/sequences and \`npm run simulate\``);
      }
      const deadline = Date.now() + (options.timeoutMs ?? 300_000);
      for (;;) {
        const res = await http(`${base}/v1/leads/${leadId}/export`, { headers: admin });
        await expectStatus(res, [200], "the admin token was refused or the export failed: mint one with the admin role (see infra/README.md, Tokens)");
        const data = (await res.json()) as { activities?: { type: string; at: string }[] };
        const sent = data.activities?.find((a) => a.type === "email.sent");
        if (sent) return `email.sent at ${sent.at} (to SES's mailbox simulator)`;
        if (Date.now() >= deadline) {
          throw new StepFailed(
            `no email.sent within ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s`,
            "check the sweeper's logs and the dead-letter queues; the first step's delay may be longer than --timeout, or SES may still be in the sandbox",
          );
        }
        await sleep(options.pollMs ?? 10_000);
      }
    }));

  if (emailed) {
    await step("unsubscribe", async () => {
      let link = unsubscribeLink;
      if (!link) {
        if (!options.signingKey) {
          throw new StepFailed("no unsubscribe link to follow", "pass the stage's token-signing key: --signing-key \"$(npx sst secrets get TOKEN_SIGNING_KEY --stage <stage>)\"");
        }
        const token = new TokenSigner(options.signingKey).sign({ sub: leadId!, purpose: "unsubscribe", exp: expiresIn(new Date(), 1) });
        link = `${base}/v1/unsubscribe?token=${encodeURIComponent(token)}`;
      }
      // RFC 8058: the one-click POST the mail client makes.
      const res = await http(link.replace(/^https?:\/\/[^/]+/, base), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: "List-Unsubscribe=One-Click",
      });
      await expectStatus(res, [200], "the one-click unsubscribe route refused the email's link: check PUBLIC_URL and TOKEN_SIGNING_KEY of the stage");
      return "200, suppressed";
    });
  }

  if (leadId) {
    await step("erase", async () => {
      const res = await http(`${base}/v1/leads/${leadId}`, { method: "DELETE", headers: admin });
      await expectStatus(res, [204], "the admin token was refused or the erase failed: mint one with the admin role (see infra/README.md, Tokens)");
      const gone = await http(`${base}/v1/leads/${leadId}/export`, { headers: admin });
      if (gone.status !== 404) throw new StepFailed(`the export still answers ${gone.status} after the erase`, "check the API function's logs for the erase");
      return "204, the export now answers 404";
    });
  }

  return { ok: steps.length > 0 && steps.every((s) => s.ok) && steps.some((s) => s.step === "erase"), local, email, steps };
}
