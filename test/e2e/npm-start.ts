/**
 * Runs `npm start` itself, as a user would, on a copy of config/ and its own data folder: the
 * tests of hot reload, docs/try-it-locally.md and the marketer's loop go through the same command
 * and read what it prints. It starts its own DynamoDB Local and SES emulator, like a fresh clone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface StartedStack {
  url: string;
  /** The copy of config/ this stack runs on (its folder is named `config`, as config:check shows it). */
  configDir: string;
  dataDir: string;
  /** Everything the stack printed so far, stdout and stderr. */
  output(): string;
  /** Resolves with the output once `pattern` appears in what is printed after `from` characters. */
  waitForOutput(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<string>;
  stop(): Promise<void>;
}

export async function npmStart(env: Record<string, string> = {}): Promise<StartedStack> {
  const root = mkdtempSync(join(tmpdir(), "leadloop-npm-start-"));
  const configDir = join(root, "config");
  const dataDir = join(root, "data");
  cpSync(join(repoRoot, "config"), configDir, { recursive: true });
  mkdirSync(dataDir);
  const child: ChildProcess = spawn("npm", ["start"], {
    cwd: repoRoot,
    env: { ...process.env, PORT: "0", LEADLOOP_DATA_DIR: dataDir, LEADLOOP_CONFIG_DIR: configDir, ...env },
    // Its own process group: stopping it stops npm, tsx, DynamoDB Local and the SES emulator together.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters) w();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let exitedYet = false;
  void exited.then(() => {
    exitedYet = true;
    for (const w of waiters) w();
  });

  const waitForOutput = (pattern: RegExp, { from = 0, timeoutMs = 60_000 }: { from?: number; timeoutMs?: number } = {}) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(out.slice(from));
        if (match) {
          done();
          resolve(match[0]);
        } else if (exitedYet) {
          done();
          reject(new Error(`npm start exited before printing ${pattern}:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`npm start did not print ${pattern} within ${timeoutMs} ms:\n${out}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const stop = async () => {
    if (!exitedYet && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, 15_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(root, { recursive: true, force: true });
  };

  try {
    const line = await waitForOutput(/Demo form\s+(http:\/\/\S+)\//, { timeoutMs: 120_000 });
    const url = /http:\/\/\S+(?=\/)/.exec(line)?.[0] ?? "";
    return { url, configDir, dataDir, output: () => out, waitForOutput, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls GET /dev/config until `done` holds (a reload is noticed in about a quarter second). */
export async function waitForConfig<T extends { version: string; lastReload?: { at: string; ok: boolean } }>(
  url: string,
  done: (status: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = (await (await fetch(`${url}/dev/config`)).json()) as T;
    if (done(status)) return status;
    if (Date.now() > until) throw new Error(`the stack's config did not change as expected: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
