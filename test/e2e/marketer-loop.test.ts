/**
 * The marketer's loop on a running `npm start`, with nobody else's help: edit a sequence and add a
 * template in config/ → `npm run config:check` → the stack reloads it → /preview renders the new
 * copy → a test send lands in /dev/emails → `npm run simulate -- --base … --candidate …` shows
 * what the change moves. Prints the loop's wall time (no assertion on it: machines differ).
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { npmStart, repoRoot, type StartedStack, waitForConfig } from "./npm-start";

const run = promisify(execFile);

interface Status {
  version: string;
  lastReload?: { at: string; ok: boolean; changes: string[] };
}

let stack: StartedStack;
beforeAll(async () => {
  stack = await npmStart();
}, 150_000);
afterAll(async () => {
  await stack?.stop();
});

describe("the marketer's loop", () => {
  it("edit → config:check → reload → preview → test send → simulate, on a running npm start", async () => {
    const config = stack.configDir;
    const before = (await (await fetch(`${stack.url}/dev/config`)).json()) as Status;
    const started = performance.now();
    const laps: string[] = [];
    let lapStart = started;
    const lap = (name: string) => {
      const now = performance.now();
      laps.push(`${name} ${((now - lapStart) / 1000).toFixed(1)} s`);
      lapStart = now;
    };

    // 1. The edit: a sharper welcome subject, and a new check-in email at the end of SMB nurture.
    const smb = join(config, "sequences", "smb.yaml");
    const yaml = readFileSync(smb, "utf8");
    const oldSubject = 'subject: "Welcome to Acme Analytics, {{ lead.firstName | default: \\"there\\" }}"';
    expect(yaml).toContain(oldSubject);
    writeFileSync(
      join(config, "templates", "smb-check-in.txt.liquid"),
      readFileSync(join(config, "templates", "smb-welcome.txt.liquid"), "utf8").replace(/Thanks for your interest[\s\S]*?No fluff\./, "How is your first dashboard coming along? Reply and tell us."),
    );
    writeFileSync(
      join(config, "templates", "smb-check-in.html.liquid"),
      readFileSync(join(config, "templates", "smb-welcome.html.liquid"), "utf8").replace(/Thanks for your interest[^<]*/, "How is your first dashboard coming along? Reply and tell us."),
    );
    writeFileSync(
      smb,
      `${yaml.replace(oldSubject, 'subject: "{{ lead.firstName | default: \\"Hi\\" }}, your analytics starter kit"').trimEnd()}
  - id: check-in
    delay: P5D
    template: smb-check-in
    subject: "How is your first dashboard, {{ lead.firstName | default: \\"there\\" }}?"
`,
    );

    // 2. config:check says it is clean.
    const check = await run("npm", ["run", "-s", "config:check", "--", "--dir", config], { cwd: repoRoot });
    expect(check.stdout).toMatch(/✓ config is valid: .* 5 sequences \(\d+ steps\)/);
    lap("edit + config:check");

    // 3. The running stack picked it up.
    const reloaded = await waitForConfig<Status>(stack.url, (s) => s.version !== before.version && s.lastReload?.ok === true);
    expect(reloaded.lastReload?.changes).toEqual(["sequence smb-nurture changed: step welcome, step check-in added", "template smb-check-in added"]);
    lap("reload seen");

    // 4. /preview lists the new email and renders its copy for a whitepaper sample lead.
    const items = (await (await fetch(`${stack.url}/v1/preview/emails`)).json()) as { items: { id: string }[] };
    expect(items.items.map((i) => i.id)).toContain("step:smb-nurture/check-in");
    const preview = (await (await fetch(`${stack.url}/v1/preview/email?item=step:smb-nurture/check-in&form=whitepaper`)).json()) as { email: { subject: string; text: string } };
    expect(preview.email.text).toContain("How is your first dashboard coming along?");
    const welcome = (await (await fetch(`${stack.url}/v1/preview/email?item=step:smb-nurture/welcome&form=whitepaper`)).json()) as { email: { subject: string } };
    expect(welcome.email.subject).toMatch(/, your analytics starter kit$/);

    // 5. A test send arrives, through the same mailer.
    const to = `marketer.${Date.now()}@acme-analytics.example`;
    const sent = await fetch(`${stack.url}/v1/preview/test-send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ item: "step:smb-nurture/check-in", to, form: "whitepaper" }),
    });
    expect(sent.status).toBe(202);
    const inbox = (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(to)}`)).json()) as { subject: string; text: string }[];
    expect(inbox.map((e) => e.subject)).toEqual([expect.stringMatching(/How is your first dashboard, .+\?$/)]);
    expect(inbox[0]?.text).toContain("How is your first dashboard coming along?");
    lap("preview + test send");

    // 6. simulate shows what the change moves: the new step sends, across every seed.
    const simulated = await run("npm", ["run", "-s", "simulate", "--", "--base", join(repoRoot, "config"), "--candidate", config], { cwd: repoRoot, maxBuffer: 8 << 20 });
    expect(simulated.stdout).toMatch(/check-in\s+0\s+\d+\s+\+\d+/);
    lap("simulate (5 seeds × 2 configs)");

    const seconds = (performance.now() - started) / 1000;
    console.log(`marketer's loop: ${seconds.toFixed(1)} s (edit → config:check → reload → preview → test send → simulate): ${laps.join(", ")}`);
    console.log(simulated.stdout.split("\n").slice(0, 25).join("\n"));
  }, 240_000);
});
