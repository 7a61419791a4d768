/**
 * docs/try-it-locally.md, walked as written: its `sh` blocks are read from the doc (so it cannot
 * rot) and run in order against a fresh `npm start`, with the clock started on a Friday night (the
 * hardest hour for send windows), and each step shows what the doc says it will.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { npmStart, repoRoot, type StartedStack } from "./npm-start";

const run = promisify(execFile);

interface Block {
  section: string;
  script: string;
}

/** Every ```sh block of the doc with the `## N.` section it sits in. */
function docBlocks(): Block[] {
  const doc = readFileSync(join(repoRoot, "docs/try-it-locally.md"), "utf8");
  const blocks: Block[] = [];
  let section = "";
  for (const part of doc.split(/^(## .*)$/m)) {
    if (part.startsWith("## ")) {
      section = part.slice(3).trim();
      continue;
    }
    for (const m of part.matchAll(/```sh\n([\s\S]*?)```/g)) blocks.push({ section, script: m[1]!.trim() });
  }
  return blocks;
}

/** The JSON values a block printed one after another (curl -s adds no newline between them). */
function jsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{" || ch === "[") {
      if (depth++ === 0) start = i;
    } else if ((ch === "}" || ch === "]") && --depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
  }
  return values;
}

interface Email {
  messageId: string;
  subject: string;
  text: string;
  sentAt: string;
}

let stack: StartedStack;
beforeAll(async () => {
  // 2027-01-08 is a Friday.
  stack = await npmStart({ LEADLOOP_CLOCK_START: "2027-01-08T22:00:00Z" });
}, 150_000);
afterAll(async () => {
  await stack?.stop();
});

describe("docs/try-it-locally.md", () => {
  it("runs as written against a fresh npm start and shows what it promises", async () => {
    const blocks = docBlocks();
    expect(blocks[0]).toEqual({ section: "1. Start the local stack", script: "npm start" });
    const host = stack.url.replace(/^http:\/\//, "");
    const env: Record<string, string> = { ...(process.env as Record<string, string>), LEADLOOP_DATA_DIR: stack.dataDir };
    let last = "";
    const outputs: { block: Block; out: string }[] = [];
    // The stack is already running: `npm start` is what npmStart ran.
    for (const block of blocks.slice(1)) {
      let script = block.script.replaceAll("127.0.0.1:3000", host);
      if (script.includes("<messageId>")) {
        const newest = (jsonValues(last).at(-1) as Email[]).sort((a, b) => a.sentAt.localeCompare(b.sentAt)).at(-1);
        script = script.replaceAll("<messageId>", newest?.messageId ?? "none");
      }
      const { stdout } = await run("sh", ["-ec", script], { cwd: repoRoot, env, timeout: 120_000 });
      last = stdout;
      outputs.push({ block, out: stdout });
      // "Keep the id: LEAD=<the id>"
      if (block.section.startsWith("2.") && script.includes("/submissions") && !env.LEAD) env.LEAD = (JSON.parse(stdout) as { leadId: string }).leadId;
    }
    const out = (section: string, includes: string) => {
      const found = outputs.find((o) => o.block.section.startsWith(section) && o.block.script.includes(includes));
      if (!found) throw new Error(`the doc has no block in section ${section} with ${includes}`);
      return found.out;
    };
    // A block may run an advance before listing emails: the list is the last value printed.
    const emails = (section: string, to: string) => jsonValues(out(section, `to=${to}`)).at(-1) as Email[];

    // 2. Ada is captured (leadId and token) and gets the demo-request follow-up at once.
    expect(JSON.parse(out("2.", "/submissions"))).toEqual({ leadId: env.LEAD, token: expect.any(String) });
    expect(emails("2.", "ada@bigco.example").map((e) => e.subject)).toContain("Ada, thanks for booking a demo");
    // 3. Dana is told.
    const handoff = emails("3.", "dana.whitfield@acme-analytics.example").find((e) => e.subject === "New qualified lead: Ada Lovelace (BigCo)");
    expect(handoff, "Dana's hand-off email").toBeDefined();
    expect(handoff?.text).toContain(`/sales?lead=${env.LEAD}`);
    // 4. A token, then claim and a win: Ada is a customer.
    expect.soft(out("4.", "npm run -s token").trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const api = out("4.", "/claim");
    expect.soft(api).toContain(`"claimedBy":"dana.whitfield@acme-analytics.example"`);
    expect.soft(api).toMatch(/"stage":"customer"/);
    // 5. Grace went to Marcus, waited past his four hours and moved on to Dana; both were told.
    expect.soft(JSON.parse(out("5.", "/submissions"))).toMatchObject({ leadId: expect.any(String) });
    const lists = jsonValues(out("5.", "to=marcus.lee")) as Email[][]; // Marcus's, then Dana's
    expect.soft(lists.at(-2)?.map((e) => e.subject)).toEqual(
      expect.arrayContaining(["New qualified lead: Grace Hopper (BigCo)", "Lead moved on: Grace Hopper"]),
    );
    expect.soft(lists.at(-1)?.map((e) => e.subject)).toContain("Reassigned to you: Grace Hopper (BigCo)");
    // 6. Alan is nurtured: the SMB welcome arrives after the advance, and the click is accepted.
    expect.soft(emails("6.", "alan@smallco.example").map((e) => e.subject)).toContain("Welcome to Acme Analytics, Alan");
    expect.soft(JSON.parse(out("6.", "/click"))).toMatchObject({ source: "aws.ses", "detail-type": expect.stringMatching(/click/i) });
  }, 240_000);
});
