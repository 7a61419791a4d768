import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createAuthenticator } from "@leadloop/api";
import { AuthSettings } from "@leadloop/core";
import { describe, expect, it } from "vitest";
import { localAuthSecret } from "./local-secrets";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const REP = "dana.whitfield@acme-analytics.example"; // a rep in config/teams.yaml

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("LEADLOOP_")));
  return new Promise((done) => {
    execFile("npx", ["tsx", "packages/local/src/token-cli.ts", ...args], { cwd: root, env: { ...clean, ...env } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const dataDir = () => join(mkdtempSync(join(tmpdir(), "leadloop-token-")), ".leadloop");
const authenticateWith = (secret: string) => createAuthenticator(AuthSettings.parse({ hs256Secret: secret }));

describe("npm run token", () => {
  it("prints only a token that authenticates as the rep, signed with the data folder's secret", async () => {
    const dir = dataDir();
    const run = await runCli(["--rep", "Dana.Whitfield@acme-analytics.example"], { LEADLOOP_DATA_DIR: dir });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("warning");
    const token = run.stdout.trim();
    expect(token.split(".")).toHaveLength(3);
    const principal = await authenticateWith(localAuthSecret(dir, {}))(`Bearer ${token}`);
    expect(principal).toEqual({ subject: REP, email: REP, name: "Dana Whitfield", roles: ["rep"] });
  });

  it("issues other roles for the lifetime asked", async () => {
    const dir = dataDir();
    const run = await runCli(["--rep", "mia@acme.example", "--role", "marketing,admin", "--ttl", "30m"], { LEADLOOP_DATA_DIR: dir });
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    expect((await authenticateWith(localAuthSecret(dir, {}))(`Bearer ${token}`)).roles).toEqual(["marketing", "admin"]);
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBe(1800);
  });

  it("warns, but still issues, for someone who is not a rep in teams.yaml", async () => {
    const dir = dataDir();
    const run = await runCli(["--rep", "dana.whitfeld@acme-analytics.example"], { LEADLOOP_DATA_DIR: dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/warning: dana\.whitfeld@acme-analytics\.example is not a rep in config\/teams\.yaml/);
    expect(run.stderr).toContain(`did you mean \`${REP}\`?`);
    expect((await authenticateWith(localAuthSecret(dir, {}))(`Bearer ${run.stdout.trim()}`)).roles).toEqual(["rep"]);
  });

  it("uses LEADLOOP_AUTH_SECRET when set", async () => {
    const dir = dataDir();
    const secret = "an-operator-chosen-secret-of-enough-length";
    const run = await runCli(["--rep", REP], { LEADLOOP_DATA_DIR: dir, LEADLOOP_AUTH_SECRET: secret });
    expect(run.code).toBe(0);
    expect((await authenticateWith(secret)(`Bearer ${run.stdout.trim()}`)).email).toBe(REP);
    expect(existsSync(join(dir, "auth-secret"))).toBe(false);
  });

  it("exits 1 with what to write instead for bad arguments, printing no token", async () => {
    const dir = dataDir();
    const cases: [string[], RegExp][] = [
      [[], /Say who the token is for: --rep <email>/],
      [["--rep", "dana"], /"dana" is not an email address; write e\.g\. --rep/],
      [["--rep", REP, "--role", "admn"], /"admn" is not a role; did you mean `admin`\?/],
      [["--rep", REP, "--ttl", "8 hours"], /--ttl "8 hours" is not a token lifetime; write e\.g\. 8h/],
      [["--reps", REP], /There is no option --reps; did you mean --rep\?/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, { LEADLOOP_DATA_DIR: dir });
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain("Usage: npm run token");
    }
  });
});
