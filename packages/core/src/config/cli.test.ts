import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
const parent = mkdtempSync(join(tmpdir(), "leadloop-cli-"));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

function run(...args: string[]) {
  const result = spawnSync("npx", ["tsx", cli, ...args], { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout };
}

describe("config:check", () => {
  it("exits 0 on the shipped config (default folder ./config) with a summary", () => {
    const { status, stdout } = run();
    expect(stdout).toMatch(/^✓ config is valid: 3 forms, /m);
    expect(status).toBe(0);
  });

  it("exits 1 on a broken copy given with --dir, printing file:line:column  message  (hint)", () => {
    const dir = join(parent, "broken");
    cpSync(join(repoRoot, "config"), dir, { recursive: true });
    const smb = join(dir, "sequences", "smb.yaml");
    writeFileSync(smb, readFileSync(smb, "utf8").replace("delay: P4D", "delay: 3 days"));
    const line = readFileSync(smb, "utf8").split("\n").findIndex((l) => l.includes("3 days")) + 1;

    const { status, stdout } = run("--dir", dir);
    expect(stdout).toContain(`broken/sequences/smb.yaml:${line}:12  steps[2].delay \`3 days\` is not a duration`);
    expect(stdout).toContain("(write P3D)");
    expect(stdout).toMatch(/✗ 1 problem in 1 file/);
    expect(status).toBe(1);
  });

  it("warns, still exiting 0, when an inserted step changes which email a later `previous:` condition reads", () => {
    const dir = join(parent, "repo", "config");
    cpSync(join(repoRoot, "config"), dir, { recursive: true });
    const git = (...args: string[]) => spawnSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { encoding: "utf8" });
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "config");
    const smb = join(dir, "sequences", "smb.yaml");
    const text = readFileSync(smb, "utf8");
    const conditioned = text.split("\n").findIndex((l) => l.includes("condition: { previous: clicked }"));
    const lines = text.split("\n");
    const stepStart = lines.slice(0, conditioned).findLastIndex((l) => l.startsWith("  - id: "));
    lines.splice(stepStart, 0, "  - id: webinar-invite", "    delay: P1D", "    template: smb-welcome", "    subject: Join our webinar");
    writeFileSync(smb, lines.join("\n"));

    const { status, stdout } = run("--dir", dir);
    expect(stdout).toMatch(/config\/sequences\/smb\.yaml:\d+:\d+ {2}warning: step `[a-z-]+`'s condition `previous: clicked` now reads the email of step `webinar-invite`/);
    expect(stdout).toMatch(/^✓ config is valid/m);
    expect(status).toBe(0);
  });
});
