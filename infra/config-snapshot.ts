/**
 * The marketers' config as the functions see it: loaded and validated from `config/` once, at
 * synth time, and written as one JSON file that every function that needs it ships beside its
 * bundle (SST `copyFiles`). Shipping it as data, not code, keeps the bundles small (the Liquid
 * templates are most of its size) and keeps the YAML parser and the validator out of Lambda; a
 * config change still changes the function's asset, so a deploy updates the functions.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { type LeadloopConfig, loadConfigOrThrow } from "@leadloop/core";

/** The name the functions read (CONFIG_FILE), relative to the Lambda task root. */
export const CONFIG_SNAPSHOT_NAME = "leadloop-config.json";

export interface ConfigSnapshot {
  config: LeadloopConfig;
  /** Path of the written JSON, relative to the project root (what `copyFiles` wants). */
  file: string;
}

export function writeConfigSnapshot(options: { root: string; configDir?: string; outDir?: string }): ConfigSnapshot {
  const config = loadConfigOrThrow(join(options.root, options.configDir ?? "config"));
  const absolute = resolve(options.root, options.outDir ?? ".leadloop/config-snapshot", CONFIG_SNAPSHOT_NAME);
  const file = relative(options.root, absolute);
  mkdirSync(dirname(absolute), { recursive: true });
  // Written whole, then renamed: two synths at once (parallel stack tests) never see half a file.
  const temporary = `${absolute}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(config));
  renameSync(temporary, absolute);
  return { config, file };
}
