/**
 * The `WWW-Authenticate` challenge of RFC 6750 §3: a client that sent no token gets a bare
 * `Bearer` challenge; one whose token was refused learns why in `error_description`.
 */
import type { ForbiddenError, UnauthenticatedError } from "@leadloop/core";

/** RFC 6750 allows only printable ASCII without `"` and `\` inside the quoted description. */
function quoted(text: string): string {
  return `"${text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, " ")}"`;
}

export function unauthenticatedChallenge(error: UnauthenticatedError): string {
  if (error.reason === "missing") return "Bearer";
  return `Bearer error="invalid_token", error_description=${quoted(error.message)}`;
}

export function forbiddenChallenge(error: ForbiddenError): string {
  return `Bearer error="insufficient_scope", error_description=${quoted(`needs the role ${error.required.join(" or ")}`)}`;
}
