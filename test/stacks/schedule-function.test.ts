/**
 * A schedule of several jobs is one Lambda (registry `SCHEDULES`): one invocation runs each job,
 * and one job failing neither stops the others nor passes unnoticed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobEntry, JobRunResult } from "@leadloop/core/registry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaForSchedule } from "../../functions/lib/lambda-for";
import { noEmail } from "../../functions/lib/no-mailer";
import { writeConfigSnapshot } from "../../infra/config-snapshot";

const saved = { ...process.env };
beforeAll(() => {
  const root = process.cwd();
  const { file } = writeConfigSnapshot({ root, outDir: mkdtempSync(join(tmpdir(), "snapshot-")) });
  Object.assign(process.env, {
    TABLE_NAME: "t",
    EVENT_BUS_NAME: "b",
    SES_CONFIGURATION_SET: "c",
    PUBLIC_URL: "https://api.example.com",
    SST_Parameter_value_SENDER: "Acme <hello@acme.example>",
    SST_Secret_value_TOKEN_SIGNING_KEY: "0123456789abcdef0123",
    SST_Secret_value_LEAD_ID_KEY: "fedcba98765432100123",
    CONFIG_FILE: join(root, file),
  });
});
afterAll(() => {
  process.env = saved;
});

const job = (name: string, run: () => Promise<JobRunResult>): JobEntry<"nurture"> => ({
  kind: "job",
  name,
  ports: ["nurture"],
  capabilities: ["table"],
  timeoutSeconds: 60,
  everyMinutes: 5,
  run,
});

describe("a schedule's function", () => {
  it("runs every job of the schedule in one invocation, and fails after all ran when one failed, naming it", async () => {
    const ran: string[] = [];
    const failing = job("first", async () => {
      ran.push("first");
      throw new Error("store unavailable");
    });
    const working = job("second", async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      ran.push("second");
      return { worked: 1, report: { done: 1 } };
    });
    const handler = lambdaForSchedule({ name: "pair", jobs: [failing, working] }, { nurture: (runtime) => runtime.deps }, noEmail);
    await expect(handler({}, undefined)).rejects.toThrow(/pair: first failed/);
    expect(ran.sort()).toEqual(["first", "second"]);

    const fine = lambdaForSchedule({ name: "pair", jobs: [working, job("third", async () => ({ worked: 0, report: { idle: true } }))] }, { nurture: (runtime) => runtime.deps }, noEmail);
    await expect(fine({}, undefined)).resolves.toEqual({ second: { done: 1 }, third: { idle: true } });
  });
});
