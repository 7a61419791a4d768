/**
 * Secrets the local stack keeps under its data folder (`.leadloop/`), created on first use so
 * `npm start` and `npm run token` agree without anyone choosing a secret. In AWS the secrets come
 * from the environment instead.
 */
import { randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class LocalSecretError extends Error {
  override readonly name = "LocalSecretError";
}

const MIN_LENGTH = 32;

/**
 * The HS256 secret for bearer tokens: `LEADLOOP_AUTH_SECRET` when set, else `<dataDir>/auth-secret`,
 * written once (32 random bytes, base64url, readable only by the owner).
 */
export function localAuthSecret(dataDir: string, env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env.LEADLOOP_AUTH_SECRET;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (fromEnv.length < MIN_LENGTH) {
      throw new LocalSecretError(`LEADLOOP_AUTH_SECRET must be at least ${MIN_LENGTH} characters; unset it to use ${join(dataDir, "auth-secret")}.`);
    }
    return fromEnv;
  }
  const file = join(dataDir, "auth-secret");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    // Written aside and linked into place: a process starting at the same moment sees either no
    // file or the whole secret, and the first link wins for both.
    const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(draft, randomBytes(32).toString("base64url"), { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      unlinkSync(draft);
    }
  }
  const secret = readFileSync(file, "utf8").trim();
  if (secret.length < MIN_LENGTH) {
    throw new LocalSecretError(`${file} holds a secret shorter than ${MIN_LENGTH} characters; delete the file and a new one is made.`);
  }
  return secret;
}
