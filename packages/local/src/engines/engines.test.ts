import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
      // npm start's fixed viewer port (PORT + 5) says which variable picks another.
      await expect(startSesLocal({ port: first.port, portSetting: "LEADLOOP_SES_PORT" })).rejects.toThrow(`Port ${first.port} for the SES v2 emulator is already in use`);
      await expect(startSesLocal({ port: first.port, portSetting: "LEADLOOP_SES_PORT" })).rejects.toThrow(/set LEADLOOP_SES_PORT/);
    } finally {
      await first.stop();
    }
  }, 30_000);

  it("keeps the SES emulator's emails in its store file: listed again after a restart, a line cut short by a crash skipped", async () => {
    const storeFile = path.join(mkdtempSync(path.join(tmpdir(), "leadloop-ses-")), "ses-emails.jsonl");
    const kept = { messageId: "kept-1", from: "a@example.com", destination: { to: ["b@example.com"], cc: [], bcc: [] }, subject: "Kept", body: { text: "hi" }, at: 1 };
    writeFileSync(storeFile, `${JSON.stringify(kept)}\n{"messageId":"cut-sh`);
    const ses = await startSesLocal({ storeFile });
    try {
      const listed = (await (await fetch(`${ses.endpoint}/store`)).json()) as { emails: { messageId: string }[] };
      expect(listed.emails.map((e) => e.messageId)).toEqual(["kept-1"]);
      expect(readFileSync(storeFile, "utf8")).toBe(`${JSON.stringify(kept)}\n`);
      // Clearing the emulator's store clears the file too: a restart does not bring them back.
      expect((await fetch(`${ses.endpoint}/clear-store`, { method: "POST" })).status).toBe(200);
      expect(readFileSync(storeFile, "utf8")).toBe("");
    } finally {
      await ses.stop();
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
