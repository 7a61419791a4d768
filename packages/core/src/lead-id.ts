/**
 * Lead ids are derived from the normalised email with a keyed hash, so one address always has the
 * same id: dedupe becomes a condition on the lead's own key (one single-item conditional write per
 * new lead), and a capture can announce the lead before storing it. Without the key an id cannot
 * be computed from an address, nor an address found from an id.
 *
 * The key (`LEAD_ID_KEY`) is a deployment secret of its own, never the token-signing key, and it
 * must never be rotated: a new key gives every known address a new id, splitting each person into
 * two leads.
 */
import { createHmac, randomBytes } from "node:crypto";
import { normaliseEmail } from "./lead";

/** Shorter keys are guessable enough to turn ids back into addresses by trying likely emails. */
export const MIN_LEAD_ID_KEY_LENGTH = 16;

export class LeadIdKeyError extends Error {
  override readonly name = "LeadIdKeyError";
  constructor() {
    super(`The lead-id key must be at least ${MIN_LEAD_ID_KEY_LENGTH} characters long.`);
  }
}

/** Refuses a key too short to keep ids unguessable; call it once where the key is read. */
export function checkLeadIdKey(key: string): string {
  if (key.length < MIN_LEAD_ID_KEY_LENGTH) throw new LeadIdKeyError();
  return key;
}

/**
 * The lead id of an address: the first 128 bits of HMAC-SHA256(key, normalised email), written as
 * a UUID (version 8, "custom", RFC 9562) so it reads like the random ids before it.
 */
export function deriveLeadId(key: string, email: string): string {
  checkLeadIdKey(key);
  return asUuid(createHmac("sha256", key).update(normaliseEmail(email), "utf8").digest().subarray(0, 16));
}

/**
 * An id shaped exactly like a real lead id but belonging to nobody: the answer a bot that filled
 * the honeypot gets, so nothing in the response tells it it was caught.
 */
export function decoyLeadId(): string {
  return asUuid(randomBytes(16));
}

function asUuid(bytes: Buffer): string {
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
