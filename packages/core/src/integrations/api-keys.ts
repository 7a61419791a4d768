/**
 * API keys for integrations (a shop posting purchases, a CRM reading points): an admin creates,
 * lists and revokes them; a key is shown once, at creation, and only its SHA-256 hash is stored.
 * A revoked key is refused by the very next request in every container: the key's item is read
 * (strongly consistent) on each request, nothing is cached. A key authenticates like a bearer
 * token (`Authorization: Bearer llk_…`) and carries roles like one, so every route's role check
 * applies unchanged.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import * as z from "../zod-mini";
import { type Principal, Role } from "../auth-claims";
import { UnauthenticatedError, UnknownApiKeyError } from "../auth-errors";
import type { Clock } from "../ports";

/** Every key starts with this, so the API tells a key from a JWT before verifying either. */
export const API_KEY_PREFIX = "llk_";

/** `llk_<id>_<secret>`: the id (public, 16 hex) finds the record; the secret (32 random bytes) proves it. */
const API_KEY_SHAPE = /^llk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** last-used is written at most this often per key, so a busy integration never makes its key a hot item. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export const ApiKeyRequest = z.strictObject({
  name: z.string().check(z.trim(), z.minLength(1, "name the key after who uses it, e.g. shop-backend"), z.maxLength(100)),
  roles: z.array(Role).check(z.minLength(1, 'give the key at least one role, e.g. ["integration"]'), z.maxLength(4)),
});
export type ApiKeyRequest = z.infer<typeof ApiKeyRequest>;

/** What the table holds for a key: never the key itself. */
export const ApiKeyRecord = z.object({
  id: z.string(),
  name: z.string(),
  roles: z.array(Role),
  /** Hex SHA-256 of the whole key string. */
  hash: z.string(),
  createdAt: z.string(),
  createdBy: z.optional(z.string()),
  lastUsedAt: z.optional(z.string()),
  revokedAt: z.optional(z.string()),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/** A key as an admin sees it in a list: no hash. */
export type ApiKeySummary = Omit<ApiKeyRecord, "hash">;

export interface ApiKeyStore {
  /** Stores a new key; its id is random, so a clash is a bug, not a race. */
  putApiKey(record: ApiKeyRecord): Promise<void>;
  /** A strongly consistent read: a revocation a moment ago is seen. */
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; false when there is no such key. Revoking twice keeps the first time. */
  revokeApiKey(id: string, at: string): Promise<boolean>;
  /** Moves lastUsedAt to `at` unless it is already later than `notBefore`. */
  touchApiKey(id: string, at: string, notBefore: string): Promise<void>;
}


export const hashApiKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex");

export function summary(record: ApiKeyRecord): ApiKeySummary {
  const { hash: _hash, ...rest } = record;
  return rest;
}

/** Creates a key; the returned `key` is the only time anyone sees it. */
export async function createApiKey(
  deps: { apiKeys: ApiKeyStore; clock: Clock },
  request: ApiKeyRequest,
  createdBy?: string,
): Promise<ApiKeySummary & { key: string }> {
  const id = randomBytes(8).toString("hex");
  const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString("base64url")}`;
  const record: ApiKeyRecord = {
    id,
    name: request.name,
    roles: [...new Set(request.roles)],
    hash: hashApiKey(key),
    createdAt: deps.clock.now().toISOString(),
    ...(createdBy ? { createdBy } : {}),
  };
  await deps.apiKeys.putApiKey(record);
  return { ...summary(record), key };
}

export async function listApiKeys(deps: { apiKeys: ApiKeyStore }): Promise<ApiKeySummary[]> {
  const records = await deps.apiKeys.listApiKeys();
  return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(summary);
}

export async function revokeApiKey(deps: { apiKeys: ApiKeyStore; clock: Clock }, id: string): Promise<void> {
  if (!(await deps.apiKeys.revokeApiKey(id, deps.clock.now().toISOString()))) throw new UnknownApiKeyError(id);
}

export function isApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

/** The principal an API key stands for; throws UnauthenticatedError for an unknown, forged or revoked key. */
export async function verifyApiKey(deps: { apiKeys: ApiKeyStore; clock: Clock }, key: string): Promise<Principal> {
  const match = API_KEY_SHAPE.exec(key);
  if (!match) {
    throw new UnauthenticatedError("malformed", "The API key is not one leadloop issued (llk_ followed by a 16-hex id, _ and 43 base64url characters); copy it whole.");
  }
  const id = match[1] ?? "";
  const record = await deps.apiKeys.getApiKey(id);
  const expected = Buffer.from(record?.hash ?? "0".repeat(64), "hex");
  const given = Buffer.from(hashApiKey(key), "hex");
  if (!record || !timingSafeEqual(expected, given)) {
    throw new UnauthenticatedError("signature", "This API key is not known: it was mistyped, or it was never issued here.");
  }
  if (record.revokedAt) {
    throw new UnauthenticatedError("revoked", `This API key (${record.name}) was revoked at ${record.revokedAt}; ask an admin for a new one.`);
  }
  const now = deps.clock.now();
  if (!record.lastUsedAt || now.getTime() - Date.parse(record.lastUsedAt) >= LAST_USED_RESOLUTION_MS) {
    // Bookkeeping only: a failed write must not refuse a valid caller.
    await deps.apiKeys.touchApiKey(id, now.toISOString(), new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString()).catch(() => {});
  }
  return { subject: `apikey:${id}`, roles: record.roles, name: record.name };
}
