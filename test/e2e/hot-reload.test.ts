/**
 * `npm start` watches config/: a valid edit is swapped in while the stack runs and the next lead
 * gets the new copy; a broken edit keeps the running config and the stack prints config:check's
 * words for it (file:line:column message).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { npmStart, type StartedStack, waitForConfig } from "./npm-start";

interface Status {
  version: string;
  loadedAt: string;
  watching: boolean;
  lastReload?: { at: string; ok: boolean; changedFiles: string[]; changes: string[]; output: string };
}

let stack: StartedStack;
// A Wednesday afternoon in London: the SMB welcome's window is open, whatever the real hour.
beforeAll(async () => {
  stack = await npmStart({ LEADLOOP_CLOCK_START: "2027-01-13T14:00:00Z" });
}, 150_000);
afterAll(async () => {
  await stack?.stop();
});

async function welcomeSubjectFor(email: string): Promise<string | undefined> {
  const captured = await fetch(`${stack.url}/v1/forms/whitepaper/submissions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, firstName: "Grace", company: "Hopper Labs", title: "Analyst", consent: true }),
  });
  expect(captured.status).toBe(202);
  const advanced = await fetch(`${stack.url}/dev/clock/advance`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"by":"PT1H"}' });
  expect(advanced.status).toBe(200);
  const emails = (await (await fetch(`${stack.url}/dev/emails?to=${encodeURIComponent(email)}`)).json()) as { subject: string; stepId?: string }[];
  return emails.find((e) => e.stepId === "welcome")?.subject;
}

describe("hot reload of config/ under npm start", () => {
  const smb = () => join(stack.configDir, "sequences", "smb.yaml");
  const original = 'subject: "Welcome to Acme Analytics, {{ lead.firstName | default: \\"there\\" }}"';

  it("says at start that config/ is watched, and serves its version", async () => {
    expect(stack.output()).toMatch(/config\/ is watched/);
    const status = (await (await fetch(`${stack.url}/dev/config`)).json()) as Status;
    expect(status).toMatchObject({ watching: true, version: expect.stringMatching(/^[0-9a-f]{12}$/) });
  });

  it("swaps an edited subject in: a lead submitted after the reload gets it, and the stack says what changed", async () => {
    const before = (await (await fetch(`${stack.url}/dev/config`)).json()) as Status;
    const yaml = readFileSync(smb(), "utf8");
    expect(yaml).toContain(original);
    const printed = stack.output().length;
    writeFileSync(smb(), yaml.replace(original, 'subject: "Hot off the press, {{ lead.firstName }}"'));

    const after = await waitForConfig<Status>(stack.url, (s) => s.version !== before.version);
    expect(after.lastReload).toMatchObject({ ok: true, changedFiles: ["config/sequences/smb.yaml"], changes: ["sequence smb-nurture changed: step welcome"] });
    await stack.waitForOutput(/config reloaded \(version [0-9a-f]{12}\): 1 file changed: config\/sequences\/smb\.yaml\n\s+sequence smb-nurture changed: step welcome/, { from: printed });

    expect(await welcomeSubjectFor(`grace.${Date.now()}@hopper-labs.example`)).toBe("Hot off the press, Grace");
  });

  it("keeps the running config on a broken edit and prints config:check's file:line:column message", async () => {
    const before = (await (await fetch(`${stack.url}/dev/config`)).json()) as Status;
    const yaml = readFileSync(smb(), "utf8");
    const broken = yaml.replace("delay: PT10M", "delay: 10 minutes");
    const line = broken.split("\n").findIndex((l) => l.includes("10 minutes")) + 1;
    const printed = stack.output().length;
    writeFileSync(smb(), broken.replace("Hot off the press", "Never sent"));

    const after = await waitForConfig<Status>(stack.url, (s) => s.lastReload !== undefined && s.lastReload.at !== before.lastReload?.at);
    expect(after.version).toBe(before.version);
    expect(after.lastReload?.ok).toBe(false);
    const message = `config/sequences/smb.yaml:${line}:12  steps[0].delay \`10 minutes\` is not a duration`;
    expect(after.lastReload?.output).toContain(message);
    await stack.waitForOutput(/config not reloaded: config\/sequences\/smb\.yaml has problems; the running config \(version [0-9a-f]{12}/, { from: printed });
    expect(stack.output().slice(printed)).toContain(message);
    expect(stack.output().slice(printed)).toContain("(write PT10M)");

    expect(await welcomeSubjectFor(`grace.${Date.now()}@hopper-labs.example`)).toBe("Hot off the press, Grace");
  });
});
