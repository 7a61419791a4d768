import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalSecretError, localAuthSecret } from "./local-secrets";

const tempDir = () => mkdtempSync(join(tmpdir(), "leadloop-secrets-"));

describe("localAuthSecret", () => {
  it("creates a 32-byte secret readable only by the owner, and returns the same one afterwards", () => {
    const dir = join(tempDir(), "nested", ".leadloop");
    const secret = localAuthSecret(dir, {});
    expect(Buffer.from(secret, "base64url")).toHaveLength(32);
    expect(readFileSync(join(dir, "auth-secret"), "utf8")).toBe(secret);
    expect(statSync(join(dir, "auth-secret")).mode & 0o777).toBe(0o600);
    expect(localAuthSecret(dir, {})).toBe(secret);
    expect(localAuthSecret(tempDir(), {})).not.toBe(secret);
  });

  it("prefers LEADLOOP_AUTH_SECRET and then writes no file", () => {
    const dir = tempDir();
    const fromEnv = "s".repeat(40);
    expect(localAuthSecret(dir, { LEADLOOP_AUTH_SECRET: fromEnv })).toBe(fromEnv);
    expect(() => statSync(join(dir, "auth-secret"))).toThrow();
  });

  it("refuses short secrets, saying what to do", () => {
    expect(() => localAuthSecret(tempDir(), { LEADLOOP_AUTH_SECRET: "short" })).toThrow(/LEADLOOP_AUTH_SECRET must be at least 32/);
    const dir = tempDir();
    writeFileSync(join(dir, "auth-secret"), "short\n");
    expect(() => localAuthSecret(dir, {})).toThrow(LocalSecretError);
    expect(() => localAuthSecret(dir, {})).toThrow(/delete the file/);
  });
});
