/**
 * The public API function (functions/api.ts) as the stacks bundle it (SST's own esbuild, the
 * options of infra/bundling.ts): it carries zod/mini and no classic zod, nor the libraries only
 * other functions run (YAML, Liquid, Luxon), so a website's first form post waits for less code;
 * and the English messages zod/mini lacks survive bundling, so a visitor's 422 reads the same as
 * on the local stack (the bundler drops a module's side effects unless its package declares them).
 * Every bus handler and scheduled job carries no classic zod either, and only those that render
 * email carry Liquid and Luxon: a function keeps its own registry entry, not every job's. The
 * staff and reports APIs carry no classic zod either.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { sstBuildOptions } from "../../infra/bundling";

const root = process.cwd();
const out = resolve(`.leadloop/test-public-bundle-${process.pid}`);
mkdirSync(out, { recursive: true });
const { build } = createRequire(createRequire(import.meta.url).resolve("sst/package.json"))("esbuild") as typeof import("esbuild");

/** Bundles `entry` as the stacks bundle a function; returns the output file and the inputs it kept. */
async function bundle(entry: string, name: string): Promise<{ file: string; inputs: string[] }> {
  const file = join(out, `${name}.mjs`);
  const result = await build(sstBuildOptions(entry, file));
  const inputs = Object.entries(Object.values(result.metafile.outputs)[0]?.inputs ?? {})
    .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
    .map(([path]) => path);
  return { file, inputs };
}

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the public API function's bundle", () => {
  it("carries zod/mini with its English messages, and no classic zod, YAML, Liquid or Luxon", async () => {
    const { inputs } = await bundle(join(root, "functions/api.ts"), "api");
    expect(inputs.some((path) => path.includes("node_modules/zod/v4/mini/"))).toBe(true);
    expect(inputs).toContain("node_modules/zod/v4/locales/en.js");
    const unwanted = inputs.filter((path) => /node_modules\/(zod\/v4\/classic|yaml|liquidjs|luxon)\//.test(path));
    expect(unwanted).toEqual([]);
  }, 60_000);

  it("answers a bad site event in the same words as the local stack", async () => {
    const entry = join(out, "validate.ts");
    writeFileSync(
      entry,
      [
        `import { parseSiteEvent } from ${JSON.stringify(join(root, "packages/core/src/engagement/site-events.ts"))};`,
        "export function issues(body: unknown) {",
        "  try { parseSiteEvent(body); return []; } catch (error) { return (error as { issues: unknown[] }).issues; }",
        "}",
      ].join("\n"),
    );
    const { file } = await bundle(entry, "validate");
    const { issues } = (await import(pathToFileURL(file).href)) as { issues: (body: unknown) => { field: string; message: string }[] };
    expect(issues({ token: "t", type: "page_view", title: "x".repeat(301) })).toEqual([
      { field: "title", message: "Too big: expected string to have <=300 characters" },
    ]);
    expect(issues({ token: "t", type: "page_view", url: 42 })).toEqual([{ field: "url", message: "Invalid input: expected string, received number" }]);
  }, 60_000);
});

describe("the bus and scheduled functions' bundles", () => {
  /** Functions that send no email: nothing of the templates or the planner's calendar. */
  const SEND_NONE = ["engagement", "exit", "feedback", "recycler", "report", "republishers", "webhook-retries", "webhooks"];
  /** Every function but the three behind the HTTP API. */
  const BUS_AND_SCHEDULED = readdirSync(join(root, "functions"))
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    .map((file) => file.slice(0, -3))
    .filter((name) => !["api", "staff-api", "reports-api"].includes(name));

  it.each(BUS_AND_SCHEDULED)("%s carries no classic zod, and Liquid and Luxon only if it sends email", async (name) => {
    const { inputs } = await bundle(join(root, `functions/${name}.ts`), name);
    expect(inputs.filter((path) => /node_modules\/zod\/v4\/classic\//.test(path))).toEqual([]);
    if (SEND_NONE.includes(name)) expect(inputs.filter((path) => /node_modules\/(liquidjs|luxon)\//.test(path))).toEqual([]);
  }, 60_000);
});

describe("the staff and reports API functions' bundles", () => {
  it.each(["staff-api", "reports-api"])("%s carries no classic zod: its bodies, queries, tokens and keys are checked with zod/mini", async (name) => {
    const { inputs } = await bundle(join(root, `functions/${name}.ts`), name);
    expect(inputs.filter((path) => /node_modules\/zod\/v4\/classic\//.test(path))).toEqual([]);
  }, 60_000);
});
