/**
 * `npm run broadcast -- --dry-run <id>` counts who a broadcast would reach now (and why the rest
 * would not); `npm run broadcast -- --status <id>` shows its progress (queued, sent, remaining);
 * `npm run broadcast` lists them. It asks the running local stack's API with a short-lived
 * marketing token signed by the stack's own secret (`.leadloop/auth-secret` or
 * LEADLOOP_AUTH_SECRET), found as the other CLIs find it (`<data dir>/stack.json`, PORT, LEADLOOP_DATA_DIR);
 * `--url` (or LEADLOOP_URL) points it at another stack.
 */
import { parseArgs } from "node:util";
import { signHs256Token } from "@leadloop/api";
import type { BroadcastDryRun, BroadcastProgress } from "@leadloop/core";
import { localAuthSecret } from "./local-secrets";
import { findRunningStack } from "./stack-file";

const USAGE = `Usage: npm run broadcast -- [--dry-run <id> | --status <id>] [--url http://127.0.0.1:3000] [--json]

Without --dry-run or --status it lists the broadcasts of config/broadcasts/ with their progress.`;

export function formatDryRun(result: BroadcastDryRun): string {
  const excluded = Object.entries(result.excluded).map(([reason, n]) => `  ${reason}: ${n}`);
  return [
    `Broadcast ${result.broadcastId}: ${result.recipients} recipient${result.recipients === 1 ? "" : "s"} if sent now (of ${result.scanned} leads).`,
    ...(excluded.length > 0 ? ["In the audience but not sent to:", ...excluded] : []),
  ].join("\n");
}

export function formatProgress(p: BroadcastProgress): string {
  return `Broadcast ${p.broadcastId}: ${p.status}; queued ${p.queued}, sent ${p.sent}, skipped ${p.skipped}, uncertain ${p.uncertain}, remaining ${p.remaining}.`;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, out: (text: string) => void = (t) => process.stdout.write(t), err: (text: string) => void = (t) => process.stderr.write(t)): Promise<number> {
  let values: { "dry-run"?: string; status?: string; url: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        "dry-run": { type: "string" },
        status: { type: "string" },
        url: { type: "string", default: findRunningStack(env).url },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    err(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    err(`${USAGE}\n`);
    return 0;
  }
  const token = await signHs256Token({ email: "broadcast-cli@leadloop.local", roles: ["marketing"], ttl: "5m" }, localAuthSecret(findRunningStack(env).dataDir, env));
  const base = values.url.replace(/\/$/, "");
  const id = values["dry-run"] ?? values.status;
  const [method, path] = values["dry-run"]
    ? ["POST", `/v1/broadcasts/${encodeURIComponent(values["dry-run"])}/dry-run`]
    : values.status
      ? ["GET", `/v1/broadcasts/${encodeURIComponent(values.status)}`]
      : ["GET", "/v1/broadcasts"];
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  } catch {
    err(`Could not reach ${values.url} (from ${findRunningStack(env).from}): is the local stack running (npm start)? Otherwise set PORT or LEADLOOP_URL to its address.\n`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    err(`${id ? `Broadcast ${id}: ` : ""}${String(body.detail ?? `the stack answered ${res.status}`)}\n`);
    return 1;
  }
  if (values.json) out(`${JSON.stringify(body, null, 2)}\n`);
  else if (values["dry-run"]) out(`${formatDryRun(body as unknown as BroadcastDryRun)}\n`);
  else if (values.status) out(`${formatProgress(body as unknown as BroadcastProgress)}\n`);
  else {
    const list = (body.broadcasts ?? []) as { progress: BroadcastProgress }[];
    out(list.length === 0 ? "No broadcasts in config/broadcasts/.\n" : `${list.map((b) => formatProgress(b.progress)).join("\n")}\n`);
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
      process.exit(2);
    },
  );
}
