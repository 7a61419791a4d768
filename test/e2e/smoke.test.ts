/**
 * `npm run smoke` against the local stack, so the post-deploy check cannot rot: the CLI's own
 * entry takes a test lead from the form to its first email, unsubscribes and erases it, and says
 * PASS; pointed at something that is not a leadloop API it says FAIL with what to do and exits 1.
 */
import { signHs256Token } from "@leadloop/api";
import type { LocalStack } from "@leadloop/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { smokeCli } from "../../packages/local/src/smoke-cli";
import { startTestStack } from "./local-stack";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ tickEveryMs: 3_600_000 });
});
afterAll(async () => {
  await stack?.stop();
});

function io() {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => void lines.push(l), err: (l: string) => void lines.push(l) } };
}

describe("npm run smoke", () => {
  it("passes against the local stack, and leaves the test lead erased", { timeout: 60_000 }, async () => {
    const adminToken = await signHs256Token({ email: "ops@acme-analytics.example", roles: ["admin"] }, stack.authSecret);
    const { lines, io: out } = io();
    const code = await smokeCli(["--url", stack.url], { LEADLOOP_ADMIN_TOKEN: adminToken }, out);
    expect(lines.join("\n")).toMatch(/verdict: PASS/);
    expect(code).toBe(0);
    for (const step of ["health", "submit", "first email", "unsubscribe", "erase"]) expect(lines.some((l) => l.includes(`✔ ${step}`)), step).toBe(true);
    const email = /\((success\+smoke-[^)]+)\)/.exec(lines.join("\n"))?.[1] ?? "";
    expect(email).not.toBe("");
    expect(await stack.store.getLeadByEmail(email)).toBeUndefined();
  });

  it("fails with what to do, exit code 1, when the URL is not a leadloop API", async () => {
    const { lines, io: out } = io();
    const code = await smokeCli(["--url", `${stack.url}/nothing-here`], { LEADLOOP_ADMIN_TOKEN: "x.y.z" }, out);
    expect(code).toBe(1);
    expect(lines.join("\n")).toMatch(/✘ health[\s\S]*→ [\s\S]*verdict: FAIL at "health"/);
  });

  it("refuses to start without an admin token, saying how to get one", async () => {
    const { lines, io: out } = io();
    expect(await smokeCli(["--url", stack.url], {}, out)).toBe(2);
    expect(lines.join("\n")).toMatch(/--admin-token or set LEADLOOP_ADMIN_TOKEN/);
  });
});
