/**
 * `npm run apikey -- create --name shop-backend --role integration [--role marketing]`,
 * `npm run apikey -- list`, `npm run apikey -- revoke <id>`: manages integrations' API keys through
 * the admin routes of the running stack (or `--url`), with a short-lived admin token signed by the
 * stack's own secret. `create` prints the key once; only its hash is stored.
 */
import { parseArgs } from "node:util";
import { signHs256Token } from "@leadloop/api";
import { localAuthSecret } from "./local-secrets";
import { findRunningStack } from "./stack-file";

const USAGE = `Usage: npm run apikey -- create --name <who uses it> --role integration [--role marketing]
       npm run apikey -- list
       npm run apikey -- revoke <key id>
Options: --url http://127.0.0.1:3000 (default: the running local stack), --json`;

interface KeySummary {
  id: string;
  name: string;
  roles: string[];
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
  key?: string;
}

export async function apikeyCli(argv: string[], env: Record<string, string | undefined>, out: (text: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      role: { type: "string", multiple: true },
      url: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const [command, id] = positionals;
  if (values.help || !command) {
    out(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const stack = findRunningStack(env);
  const base = (values.url ?? stack.url).replace(/\/$/, "");
  const token = await signHs256Token({ email: "apikey-cli@leadloop.local", roles: ["admin"], ttl: "5m" }, localAuthSecret(stack.dataDir, env));
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) throw new Error(`${method} ${path} failed (${res.status}): ${String(json.detail ?? text)}`);
    return json;
  };

  switch (command) {
    case "create": {
      if (!values.name || !values.role?.length) {
        out(`create needs --name and at least one --role, e.g. npm run apikey -- create --name shop-backend --role integration\n`);
        return 2;
      }
      const created = (await call("POST", "/v1/admin/api-keys", { name: values.name, roles: values.role })) as unknown as KeySummary;
      out(values.json ? `${JSON.stringify(created, null, 2)}\n` : `Created ${created.id} (${created.name}, ${created.roles.join(", ")}).\nKey (shown once, store it now):\n${created.key}\n`);
      return 0;
    }
    case "list": {
      const { keys } = (await call("GET", "/v1/admin/api-keys")) as { keys: KeySummary[] };
      if (values.json) out(`${JSON.stringify(keys, null, 2)}\n`);
      else if (keys.length === 0) out("No API keys yet; create one with npm run apikey -- create --name <who> --role integration\n");
      else {
        for (const k of keys) {
          out(`${k.id}  ${k.name}  [${k.roles.join(", ")}]  created ${k.createdAt}  last used ${k.lastUsedAt ?? "never"}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ""}\n`);
        }
      }
      return 0;
    }
    case "revoke": {
      if (!id) {
        out("revoke needs the key's id (the 16 hex characters after llk_; npm run apikey -- list shows them)\n");
        return 2;
      }
      await call("DELETE", `/v1/admin/api-keys/${encodeURIComponent(id)}`);
      out(`Revoked ${id}: it is refused from the next request on.\n`);
      return 0;
    }
    default:
      out(`Unknown command "${command}".\n${USAGE}\n`);
      return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  apikeyCli(process.argv.slice(2), process.env, (text) => process.stdout.write(text)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
