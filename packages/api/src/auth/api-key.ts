/**
 * API keys beside bearer JWTs: `Authorization: Bearer llk_…` is looked up as an API key (core's
 * verifyApiKey: hash compared, revocation read from the table on every request), anything else
 * goes to the JWT verifier as before. Routes keep one `authenticate` and their role checks.
 */
import { type ApiKeyStore, type Clock, isApiKey, UnauthenticatedError, verifyApiKey } from "@leadloop/core";
import type { Authenticate } from "./bearer";

const refuseJwt: Authenticate = async () => {
  throw new UnauthenticatedError("missing", "Bearer-token verification is not configured on this deployment: only API keys (llk_…) are accepted.");
};

export function withApiKeys(jwt: Authenticate | undefined, deps: { apiKeys: ApiKeyStore; clock: Clock }): Authenticate {
  return async (header) => {
    const match = /^\s*bearer\s+(llk_\S*)\s*$/i.exec(header ?? "");
    if (match?.[1] && isApiKey(match[1])) return verifyApiKey(deps, match[1]);
    return (jwt ?? refuseJwt)(header);
  };
}
