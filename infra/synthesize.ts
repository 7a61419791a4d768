/**
 * Offline synthesis: every leadloop stack to CloudFormation without AWS credentials or network.
 * `sst build` cannot (it asks STS who you are first); SST's own construct tests can, and this is
 * their pattern: initProject, an App in deploy mode with a made-up account, `app.finish()`.
 * SST skips its AWS lookups only when NODE_ENV is "test" (vitest sets it; the synth script does).
 */
import type { Stack } from "aws-cdk-lib";
import { App, getStack } from "sst/constructs";
import { initProject } from "sst/project.js";
import { leadloopStacks, STACKS } from "./stacks";

export interface SynthOptions {
  stage: string;
  region?: string;
  /** A placeholder account: offline, CloudFormation's own pseudo parameters are not resolved. */
  account?: string;
}

export interface Synthesized {
  app: App;
  stacks: Record<keyof typeof STACKS, Stack>;
}

export class OfflineSynthError extends Error {
  override readonly name = "OfflineSynthError";
}

export async function synthesize(options: SynthOptions): Promise<Synthesized> {
  if (process.env.NODE_ENV !== "test") {
    throw new OfflineSynthError('Offline synthesis needs NODE_ENV=test, or SST looks up the CDK bootstrap in AWS (set it before SST is imported).');
  }
  await initProject({ stage: options.stage });
  const app = new App({
    mode: "deploy",
    stage: options.stage,
    name: "leadloop",
    region: options.region ?? "us-east-1",
    account: options.account ?? "123456789012",
  });
  leadloopStacks(app);
  await app.finish();
  const stacks = Object.fromEntries(
    Object.entries(STACKS).map(([name, fn]) => [name, getStack(fn) as unknown as Stack]),
  ) as Record<keyof typeof STACKS, Stack>;
  return { app, stacks };
}
