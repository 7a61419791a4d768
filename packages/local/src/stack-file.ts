/**
 * The running stack's address, written by `npm start` to `<data dir>/stack.json`, so the CLIs
 * (token, report, import) talk to the stack that is actually running and sign with its key,
 * whatever PORT or LEADLOOP_DATA_DIR it was started with.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface StackFile {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
}

export const STACK_FILE = "stack.json";

export function writeStackFile(info: StackFile): void {
  writeFileSync(join(info.dataDir, STACK_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export function removeStackFile(dataDir: string): void {
  rmSync(join(dataDir, STACK_FILE), { force: true });
}

/**
 * Where the CLIs find the stack: LEADLOOP_URL / PORT and LEADLOOP_DATA_DIR win; otherwise the
 * stack.json of the data folder (default .leadloop), if its process still runs.
 */
export function findRunningStack(env: Record<string, string | undefined>): { url: string; dataDir: string; from: string } {
  const dataDir = env.LEADLOOP_DATA_DIR ?? ".leadloop";
  const explicitUrl = env.LEADLOOP_URL ?? (env.PORT ? `http://127.0.0.1:${env.PORT}` : undefined);
  const file = join(dataDir, STACK_FILE);
  let written: StackFile | undefined;
  if (existsSync(file)) {
    try {
      written = JSON.parse(readFileSync(file, "utf8")) as StackFile;
      if (!isRunning(written.pid)) written = undefined;
    } catch {
      written = undefined;
    }
  }
  if (explicitUrl) return { url: explicitUrl, dataDir, from: env.LEADLOOP_URL ? "LEADLOOP_URL" : "PORT" };
  if (written) return { url: written.url, dataDir: written.dataDir, from: file };
  return {
    url: "http://127.0.0.1:3000",
    dataDir,
    from: `the default (no running stack found in ${file}; set LEADLOOP_DATA_DIR to the folder npm start uses, or PORT / LEADLOOP_URL)`,
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
