/**
 * The local stack as a child process, the way `npm start` runs it, so a test can SIGKILL it and
 * start it again on the same data folder. It runs as one Node process (`node --import tsx`, what
 * `npx tsx` does under a wrapper) so the signal hits the stack itself, not a launcher.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";

export interface StackProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  dynamoEndpoint: string;
  sesEndpoint: string;
  exited: Promise<string>;
  output(): string;
  /** Process groups of the engine guards (DynamoDB Local, the SES emulator) this stack started. */
  enginePgids(): number[];
  /** SIGTERM and wait: the stack's own, orderly shutdown. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function startStackProcess(options: { dataDir: string; port: number; timeoutMs?: number }): Promise<StackProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "packages/local/src/main.ts"], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      PORT: String(options.port),
      LEADLOOP_DATA_DIR: options.dataDir,
      LEADLOOP_LOG_LEVEL: "warn",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-64 * 1024);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? String(code))));
  let exit: string | undefined;
  void exited.then((e) => {
    exit = e;
  });

  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (!/Press Ctrl-C to stop/.test(output)) {
    if (exit !== undefined) throw new Error(`the local stack exited (${exit}) while starting:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the local stack did not start in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const find = (re: RegExp) => {
    const m = re.exec(output);
    if (!m?.[1]) throw new Error(`cannot find ${re} in the stack's banner:\n${output}`);
    return m[1];
  };
  const pid = child.pid as number;
  return {
    child,
    pid,
    url: find(/Health\s+(http:\/\/\S+)\/health/),
    dynamoEndpoint: find(/DynamoDB Local\s+(http:\/\/\S+)/),
    sesEndpoint: find(/Email viewer\s+(http:\/\/[^\s/]+)/),
    exited,
    output: () => output,
    enginePgids: () => {
      // The guards are the stack's direct children, each leading its own process group.
      // Other children (tsx's esbuild service) are not engines; the guard names itself leadloop-engine.
      const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" });
      return out
        .split("\n")
        .filter((line) => line.includes("leadloop-engine"))
        .map((line) => Number(line.trim().split(/\s+/)[0]));
    },
    async stop() {
      if (exit !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Live (non-zombie) processes of a process group, read from /proc: a zombie has already exited. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces, so split after its closing parenthesis.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") members.push(Number(entry));
  }
  return members;
}

export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** Waits until none of the process groups has a process left; returns those still alive. */
export async function waitGroupsGone(pgids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pgids.some(groupAlive)) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return pgids.filter(groupAlive);
}
