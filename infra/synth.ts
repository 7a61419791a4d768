/**
 * `npm run synth [-- --stage <stage>]`: writes each stack's CloudFormation template to
 * `.leadloop/synth/<stage>/`. Needs no AWS credentials and no network.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

// Before SST is loaded: its offline (test) mode skips every AWS lookup.
process.env.NODE_ENV = "test";

const { values } = parseArgs({ options: { stage: { type: "string", default: "prod" }, region: { type: "string" } } });
const stage = values.stage ?? "prod";
if (!process.env.LEADLOOP_SENDER) {
  // An example sender so a fresh clone synthesises; a deploy sets the real one.
  process.env.LEADLOOP_SENDER = "leadloop <hello@example.com>";
  console.log("LEADLOOP_SENDER is not set: using the example sender hello@example.com");
}

const started = performance.now();
const { synthesize } = await import("./synthesize");
const { app } = await synthesize({ stage, ...(values.region ? { region: values.region } : {}) });
const assembly = app.synth();
const out = join(".leadloop", "synth", stage);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const stack of assembly.stacks) {
  const file = join(out, `${stack.stackName}.template.json`);
  writeFileSync(file, `${JSON.stringify(stack.template, null, 2)}\n`);
  const resources = Object.keys((stack.template as { Resources?: object }).Resources ?? {}).length;
  console.log(`${file}: ${resources} resources`);
}
console.log(`synthesised ${assembly.stacks.length} stacks for stage ${stage} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
