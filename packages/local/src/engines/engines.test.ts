import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { JAVA_REQUIRED, startDynamoDbLocal } from "./dynamodb-local";
import { startSesLocal } from "./ses-local";

async function answersHttp(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

describe("local engines", () => {
  it("start side by side on distinct free ports, answer, and are gone after stop()", async () => {
    const engines = await Promise.all([startDynamoDbLocal(), startDynamoDbLocal(), startSesLocal(), startSesLocal()]);
    try {
      expect(new Set(engines.map((e) => e.port)).size).toBe(4);
      for (const engine of engines) expect(await answersHttp(engine.endpoint)).toBe(true);
      const ses = await fetch(`${engines[2]!.endpoint}/health-check`);
      expect(ses.status).toBe(200);
    } finally {
      await Promise.all(engines.map((e) => e.stop()));
    }
    for (const engine of engines) expect(await answersHttp(engine.endpoint)).toBe(false);
  }, 60_000);

  it("fails with a message naming the port when the port is taken", async () => {
    const first = await startSesLocal();
    try {
      await expect(startSesLocal({ port: first.port })).rejects.toThrow(/already in use/);
    } finally {
      await first.stop();
    }
  }, 30_000);

  it("says how to install Java when there is none", async () => {
    const original = process.env.PATH;
    process.env.PATH = mkdtempSync(path.join(tmpdir(), "no-java-"));
    try {
      await expect(startDynamoDbLocal()).rejects.toThrow(JAVA_REQUIRED);
    } finally {
      process.env.PATH = original;
    }
  });
});
