/**
 * The README's quick start, run as written: its curl commands are read from README.md (so the doc
 * cannot rot) and run against a started stack whose clock starts at several real times of day,
 * and Ada gets the email the README promises, whatever the hour or the day.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { startTestStack } from "./local-stack";

const run = promisify(execFile);

/** The shell commands of the "Send a lead through" block, each with its continuation lines. */
function quickStartCommands(): string[] {
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(readme.indexOf("### Send a lead through"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error("README.md has no sh block under \"### Send a lead through\"");
  const commands: string[] = [];
  let current = "";
  for (const line of block.split("\n")) {
    if (current === "" && (line.trim() === "" || line.trim().startsWith("#"))) continue;
    current += `${line}\n`;
    // A command ends at a line that neither continues (\) nor leaves a quote open.
    if (!line.trimEnd().endsWith("\\") && (current.split("'").length - 1) % 2 === 0) {
      commands.push(current.trim());
      current = "";
    }
  }
  return commands;
}

/** The README's promise about the last command, e.g. "# the demo-request follow-up: …". */
function promisedSubject(): string {
  const readme = readFileSync("README.md", "utf8");
  const match = /Subject "([^"]+)"/.exec(readme.slice(readme.indexOf("### Send a lead through")));
  if (!match?.[1]) throw new Error('README.md\'s quick start names no Subject "…" it promises');
  return match[1];
}

// 2027-01-08 is a Friday.
const STARTS = {
  "Friday 22:00 UTC": "2027-01-08T22:00:00Z",
  "Saturday 03:00 UTC": "2027-01-09T03:00:00Z",
  "Tuesday 03:00 UTC": "2027-01-12T03:00:00Z",
  "Wednesday 14:00 UTC": "2027-01-13T14:00:00Z",
};

describe("the README quick start", () => {
  const commands = quickStartCommands();

  it("is three curl commands: capture, advance, emails", () => {
    expect(commands).toHaveLength(3);
    expect(commands[0]).toContain("/v1/forms/demo-request/submissions");
    expect(commands[1]).toContain("/dev/clock/advance");
    expect(commands[2]).toContain("/dev/emails?to=ada@engines.example");
  });

  for (const [when, startAt] of Object.entries(STARTS)) {
    it(`sends Ada the promised email with the clock started on ${when}`, async () => {
      const stack = await startTestStack({ clockStartAt: startAt });
      try {
        const outputs: string[] = [];
        for (const command of commands) {
          const { stdout } = await run("sh", ["-c", command.replaceAll("localhost:3000", stack.url.replace(/^https?:\/\//, ""))]);
          outputs.push(stdout);
        }
        expect(JSON.parse(outputs[0]!)).toMatchObject({ leadId: expect.any(String) });
        const emails = JSON.parse(outputs[2]!) as { subject: string; text: string; kind?: string; formId?: string }[];
        // Only this stack's table knows its messages' kind: emails of earlier cases have none.
        const promised = emails.find((e) => e.kind === "follow-up" && e.subject === promisedSubject());
        expect(promised, emails.map((e) => e.subject).join(" | ")).toBeDefined();
        expect(promised).toMatchObject({ kind: "follow-up", formId: "demo-request" });
        expect(promised?.text.replace(/\s+/g, " ")).toContain("an engineer will be in touch");
      } finally {
        await stack.stop();
      }
      // The first case starts the stack with the engines still cold; a loaded machine doubles it.
    }, 90_000);
  }
});
