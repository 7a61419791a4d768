/**
 * How an erased address stays suppressed without being kept: the suppression of an erased lead is
 * stored under a keyed hash of the normalised address (HMAC-SHA256), so a send can still find it
 * from the address it is about to mail, but nobody can read the address back from the table.
 *
 * The hash key is derived from the lead-id key (HKDF, its own purpose label), so it is as secret
 * and as permanent as that key without another deployment secret; it is never the lead-id key
 * itself, so an erased address's hash cannot be matched against lead ids left in logs.
 */
import { createHmac, hkdfSync } from "node:crypto";
import { normaliseEmail } from "@leadloop/core";
import type { Key } from "./keys";

export function erasedSuppressionHashKey(leadIdKey: string): Buffer {
  return Buffer.from(hkdfSync("sha256", leadIdKey, "leadloop", "erased-suppression-v1", 32));
}

export function erasedSuppressionHash(hashKey: Buffer, email: string): string {
  return createHmac("sha256", hashKey).update(normaliseEmail(email), "utf8").digest("base64url");
}

/** Not under `EMAIL#`: erasing an address deletes that whole partition. */
export function erasedSuppressionKey(hash: string): Key {
  return { pk: `SUPPRESSED#${hash}`, sk: "SUPPRESSION" };
}
