/**
 * `npm run smoke -- --url <api url>`: the post-deploy smoke test (see smoke.ts). Prints each step
 * and a verdict; exits 1 on any failure, with what to do.
 */
import { parseArgs } from "node:util";
import { closest } from "@leadloop/core/config/did-you-mean";
import { runSmoke, type SmokeStep } from "./smoke";

const USAGE = `Usage: npm run smoke -- --url <api url> [--admin-token <token>] [--signing-key <key>] [--form <id>] [--timeout <seconds>]

  --url <api url>        the stage's ApiUrl (npx sst deploy prints it), or http://127.0.0.1:3000
  --admin-token <token>  a bearer token with the admin role (or LEADLOOP_ADMIN_TOKEN)
  --signing-key <key>    deployed stages: the stage's TOKEN_SIGNING_KEY, to follow the unsubscribe link
                         (or LEADLOOP_SIGNING_KEY; npx sst secrets get TOKEN_SIGNING_KEY --stage <stage>)
  --form <id>            the form to submit (default whitepaper)
  --timeout <seconds>    how long to wait for the first email when deployed (default 300)`;

const OPTIONS = ["url", "admin-token", "signing-key", "form", "timeout", "help"] as const;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const icon = (s: SmokeStep) => (s.ok ? "✔" : "✘");

export async function smokeCli(argv: string[], env: Record<string, string | undefined>, io: CliIo, extra: { pollMs?: number } = {}): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        url: { type: "string" },
        "admin-token": { type: "string" },
        "signing-key": { type: "string" },
        form: { type: "string" },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec((error as Error).message)?.[1];
    const match = unknown ? closest(unknown.replace(/^-+/, ""), [...OPTIONS]) : undefined;
    io.err(`${unknown ? `There is no option ${unknown}${match ? `; did you mean --${match}?` : "."}` : (error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const url = values.url as string | undefined;
  if (!url || !URL.canParse(url)) {
    io.err(`${url ? `--url ${url} is not a URL` : "--url is missing"}: pass the stage's ApiUrl, e.g. --url https://abc123.execute-api.eu-west-1.amazonaws.com\n\n${USAGE}`);
    return 2;
  }
  const adminToken = (values["admin-token"] as string | undefined) ?? env.LEADLOOP_ADMIN_TOKEN;
  if (!adminToken) {
    io.err(
      "An admin token is needed to erase the test lead: pass --admin-token or set LEADLOOP_ADMIN_TOKEN.\n" +
        "  locally:  LEADLOOP_ADMIN_TOKEN=$(npm run -s token -- --rep you@example.com --role admin)\n" +
        "  deployed: see infra/README.md, Tokens for reps, marketers and integrations",
    );
    return 2;
  }
  const timeout = values.timeout === undefined ? 300 : Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    io.err(`--timeout ${String(values.timeout)} is not a number of seconds; write e.g. --timeout 300`);
    return 2;
  }
  const signingKey = (values["signing-key"] as string | undefined) ?? env.LEADLOOP_SIGNING_KEY;

  io.out(`smoke test of ${url}`);
  const result = await runSmoke(
    {
      url,
      adminToken,
      ...(signingKey ? { signingKey } : {}),
      ...(values.form ? { form: values.form as string } : {}),
      timeoutMs: timeout * 1000,
      ...(extra.pollMs ? { pollMs: extra.pollMs } : {}),
    },
    (s) => {
      io.out(`  ${icon(s)} ${s.step.padEnd(12)} ${s.detail}`);
      if (s.fix) io.out(`    → ${s.fix}`);
    },
  );
  const failed = result.steps.find((s) => !s.ok);
  io.out(failed ? `verdict: FAIL at "${failed.step}": ${failed.fix ?? failed.detail}` : `verdict: PASS (${result.steps.length} steps, test lead ${result.email} erased)`);
  return result.ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  smokeCli(process.argv.slice(2), process.env, { out: (l) => console.log(l), err: (l) => console.error(l) }).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`The smoke test itself failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
