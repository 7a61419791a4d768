/**
 * What both local engines need from the operating system: a free port, a child process that
 * cannot outlive the process that started it, and a wait until the engine answers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";

/** A local engine failed to start; the message says why and what to do. */
export class EngineStartError extends Error {
  override readonly name = "EngineStartError";
}

/** Asks the kernel for a port nobody is listening on, on any interface (DynamoDB Local binds
 * them all). Another process may still take it before the engine binds it, so callers retry on
 * "address in use" when they chose the port this way. */
export function freePort(): Promise<number> {
  return listenOnce(0);
}

/**
 * Fails when something already listens on `port`. Checked before spawning, because an engine
 * that cannot bind exits only after a moment, and meanwhile the other listener would answer the
 * readiness probe as if it were ours.
 */
export async function assertPortFree(port: number, name: string, setting?: string): Promise<void> {
  try {
    await listenOnce(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    throw new EngineStartError(
      `Port ${port} for ${name} is already in use: stop what listens there (an earlier npm start?) or choose another port${setting ? ` (set ${setting})` : ""}.`,
    );
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(port, () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : 0;
      server.close(() => (bound ? resolve(bound) : reject(new Error("no port assigned"))));
    });
  });
}

// The engine runs under a small shell guard that reads the parent's pipe and kills the engine
// when the pipe closes. A pipe closes however the parent ends (Ctrl-C, a crash, SIGKILL), so no
// engine is left running after a killed test run or a killed `npm start`.
const GUARD = [
  "exec 3<&0",
  '"$@" </dev/null &',
  "engine=$!",
  "{ while read -r _; do :; done; kill $engine 2>/dev/null; } <&3 &",
  "exec 3<&-",
  "wait $engine",
].join("\n");

export interface EngineProcess {
  child: ChildProcess;
  /** The last few KiB the engine wrote, for error messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once the engine has exited. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 8 * 1024;

export function spawnGuarded(command: string, args: string[], options: { cwd?: string } = {}): EngineProcess {
  const child = spawn("/bin/sh", ["-c", GUARD, "leadloop-engine", command, ...args], {
    cwd: options.cwd,
    stdio: ["pipe", "pipe", "pipe"],
    // Its own process group, so stop() can end the guard and the engine together.
    detached: true,
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
  };
  // Always drained: an engine blocked on a full pipe stops answering.
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.stdin?.on("error", () => {});

  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? String(code)));
    child.once("error", (error) => resolve(`error: ${error.message}`));
  });

  const killGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onParentExit = () => killGroup("SIGKILL");
  process.once("exit", onParentExit);
  void exited.then(() => process.removeListener("exit", onParentExit));

  return {
    child,
    output: () => output,
    exited,
    async stop() {
      // Closing the pipe makes the guard stop the engine and wait for it, so when this resolves
      // the engine is gone and its port is free.
      child.stdin?.end();
      const timer = setTimeout(() => killGroup("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
  };
}

/**
 * Polls `probe` until it resolves true. Fails early, with the engine's output, if the engine
 * exits first, and after `timeoutMs` otherwise.
 */
export async function waitUntilReady(
  engine: EngineProcess,
  name: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  let exit: string | undefined;
  void engine.exited.then((code) => {
    exit = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit !== undefined) {
      throw new EngineStartError(`${name} exited during start-up (${exit}):\n${engine.output().trim()}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await engine.stop();
  throw new EngineStartError(
    `${name} did not answer within ${timeoutMs} ms. Its output:\n${engine.output().trim()}`,
  );
}

/** True when the output says the port was taken between freePort() and the engine binding it. */
export function portWasTaken(output: string): boolean {
  return /address already in use|EADDRINUSE|BindException/i.test(output);
}
