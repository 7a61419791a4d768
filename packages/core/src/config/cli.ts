/**
 * `npm run config:check [-- --dir <path>]`: checks the marketer-owned config and prints every
 * problem as `file:line:column  message  (what to write instead)`. Exit 0 when clean, 1 otherwise.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkConfig } from "./check";

function main(): number {
  let dir: string;
  try {
    const { values } = parseArgs({
      options: { dir: { type: "string", short: "d" }, help: { type: "boolean", short: "h" } },
      strict: true,
    });
    if (values.help) {
      console.log("usage: npm run config:check [-- --dir <config folder>]   (default: ./config)");
      return 0;
    }
    dir = resolve(values.dir ?? "config");
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\nusage: npm run config:check [-- --dir <config folder>]`);
    return 2;
  }

  const check = checkConfig(dir);
  console.log(check.output);
  return check.config === undefined ? 1 : 0;
}

process.exitCode = main();
