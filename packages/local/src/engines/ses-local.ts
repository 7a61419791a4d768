/**
 * The SES v2 emulator (npm `aws-ses-v2-local`) on a free port or a fixed one. Its web page at the
 * endpoint shows every email sent; with a store file, also those sent before a restart.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LocalEngine } from "./dynamodb-local";
import { assertPortFree, EngineStartError, freePort, portWasTaken, spawnGuarded, waitUntilReady } from "./engine-process";

export interface SesLocalOptions {
  /** Defaults to a free port. */
  port?: number;
  /** Defaults to 15 s. */
  timeoutMs?: number;
  /**
   * Keeps the caught emails in this file (JSON lines) and lists them again after a restart;
   * omit to keep them in memory only.
   */
  storeFile?: string;
  /** Names what sets the port, for the message when it is taken (e.g. "LEADLOOP_SES_PORT"). */
  portSetting?: string;
}

/** Our launcher of the emulator, which keeps its store in a file (see the script). */
const LAUNCHER = fileURLToPath(new URL("./ses-local-launcher.cjs", import.meta.url));

/** The emulator's command-line script, as its package.json names it. */
export function sesLocalBin(): string {
  const packageJsonPath = createRequire(import.meta.url).resolve("aws-ses-v2-local/package.json");
  const manifest = JSON.parse(readFileSync(packageJsonPath, "utf8")) as { bin?: string | Record<string, string> };
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.["aws-ses-v2-local"];
  if (!bin) throw new EngineStartError(`aws-ses-v2-local's package.json names no bin script (${packageJsonPath}).`);
  return path.join(path.dirname(packageJsonPath), bin);
}

export async function startSesLocal(options: SesLocalOptions = {}): Promise<LocalEngine> {
  const bin = sesLocalBin();
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    if (options.port !== undefined) await assertPortFree(options.port, "the SES v2 emulator", options.portSetting);
    const port = options.port ?? (await freePort());
    // Bound to loopback: the emulator has no authentication.
    const args = ["--host", "127.0.0.1", "--port", String(port)];
    const engine = options.storeFile
      ? spawnGuarded(process.execPath, [LAUNCHER, ...args, "--store-file", path.resolve(options.storeFile)])
      : spawnGuarded(process.execPath, [bin, ...args]);
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitUntilReady(engine, "The SES v2 emulator", () => healthy(endpoint), options.timeoutMs ?? 15_000);
      return { endpoint, port, stop: () => engine.stop() };
    } catch (error) {
      if (attempt < attempts && portWasTaken(engine.output())) continue;
      throw error;
    }
  }
}

async function healthy(endpoint: string): Promise<boolean> {
  const response = await fetch(`${endpoint}/health-check`, { signal: AbortSignal.timeout(1_000) });
  await response.arrayBuffer();
  return response.ok;
}
