/**
 * `npm run token -- --rep <email> [--role marketing|admin|integration] [--ttl 8h]`: prints a bearer
 * token for the local stack, signed with its HS256 secret (`.leadloop/auth-secret` or
 * LEADLOOP_AUTH_SECRET). Only the token goes to stdout, so `TOKEN=$(npm run -s token -- --rep …)`
 * works; everything meant for the person goes to stderr.
 */
import { findRunningStack } from "./stack-file";
import { parseArgs } from "node:util";
import { signHs256Token, ttlSeconds } from "@leadloop/api";
import { emailClaim, loadConfig, ROLES, type Role } from "@leadloop/core";
import { closest, suggest } from "@leadloop/core/config/did-you-mean";
import { localAuthSecret } from "./local-secrets";

const USAGE = `Usage: npm run token -- --rep <email> [--role <role>] [--ttl <lifetime>] [--name <name>]

  --rep <email>     who the token is for (a rep's email from config/teams.yaml)
  --role <role>     ${ROLES.join(", ")} (default rep); repeat it or separate
                    with commas for several roles
  --ttl <lifetime>  how long the token is valid: 8h (default), 30m, 7d or PT8H
  --name <name>     display name (default: the rep's name in config/teams.yaml)

Example: npm run token -- --rep dana.whitfield@acme-analytics.example`;

class UsageError extends Error {
  override readonly name = "UsageError";
}

function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

function fail(message: string): never {
  throw new UsageError(message);
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        rep: { type: "string" },
        role: { type: "string", multiple: true },
        ttl: { type: "string" },
        name: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    if (!unknown) return fail(message);
    const match = closest(unknown.replace(/^-+/, ""), ["rep", "role", "ttl", "name", "help"]);
    return fail(`There is no option ${unknown}${match ? `; did you mean --${match}?` : "."}`);
  }
}

function rolesFrom(values: string[] | undefined): Role[] {
  if (!values || values.length === 0) return ["rep"];
  const roles = new Set<Role>();
  for (const name of values.flatMap((v) => v.split(",")).map((v) => v.trim().toLowerCase())) {
    const role = ROLES.find((r) => r === name);
    if (!role) fail(`"${name}" is not a role; ${sentence(suggest(name, ROLES) ?? "")}`);
    roles.add(role);
  }
  return [...roles];
}

/** A token for someone teams.yaml does not know still works, but no lead will ever be assigned to them. */
function repFromTeams(email: string, configDir: string): { name?: string; warning?: string } {
  const { config, problems } = loadConfig(configDir);
  if (!config) {
    return { warning: `could not check ${configDir}/teams.yaml (${problems.length} problem(s); run npm run config:check).` };
  }
  const reps = config.teams.teams.flatMap((team) => team.reps);
  const rep = reps.find((r) => r.email.toLowerCase() === email);
  if (rep) return { name: rep.name };
  const hint = suggest(email, reps.map((r) => r.email), "reps there are");
  return { warning: sentence(`${email} is not a rep in ${configDir}/teams.yaml, so no leads will be assigned to them${hint ? `; ${hint}` : ""}`) };
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const values = parse(argv);
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  if (values.rep === undefined) fail("Say who the token is for: --rep <email>.");
  const email = emailClaim(values.rep) ?? fail(`"${values.rep}" is not an email address; write e.g. --rep dana.whitfield@acme-analytics.example.`);
  const roles = rolesFrom(values.role);
  const ttl = values.ttl ?? "8h";
  let seconds: number;
  try {
    seconds = ttlSeconds(ttl);
  } catch (error) {
    return fail(`--ttl ${(error as Error).message}`);
  }

  let name = values.name;
  if (roles.includes("rep")) {
    const found = repFromTeams(email, env.LEADLOOP_CONFIG_DIR ?? "config");
    if (found.warning) process.stderr.write(`warning: ${found.warning}\n`);
    name ??= found.name;
  }

  const dataDir = findRunningStack(env).dataDir;
  const token = await signHs256Token(
    {
      email,
      roles,
      ttl,
      ...(name ? { name } : {}),
      ...(env.LEADLOOP_AUTH_AUDIENCE ? { audience: env.LEADLOOP_AUTH_AUDIENCE } : {}),
      ...(env.LEADLOOP_AUTH_ISSUER ? { issuer: env.LEADLOOP_AUTH_ISSUER } : {}),
      ...(env.LEADLOOP_AUTH_ROLES_CLAIM ? { rolesClaim: env.LEADLOOP_AUTH_ROLES_CLAIM } : {}),
    },
    localAuthSecret(dataDir, env),
  );
  process.stdout.write(`${token}\n`);
  const until = new Date(Date.now() + seconds * 1000).toISOString();
  process.stderr.write(`Token for ${email} (${roles.join(", ")}), valid until ${until}. Send it as: Authorization: Bearer <token>\n`);
  return 0;
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    else process.stderr.write(`npm run token failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
