/**
 * Errors a use case can raise on purpose. The HTTP layer maps each to a status in one place
 * (packages/api/src/problem.ts); anything else is a bug and answers 500 without detail.
 */

export interface FieldIssue {
  field: string;
  message: string;
}

export class UnknownFormError extends Error {
  override readonly name = "UnknownFormError";
  constructor(readonly formId: string) {
    super(`There is no form "${formId}". Check the form id in the URL against config/forms.yaml.`);
  }
}

export class ValidationError extends Error {
  override readonly name = "ValidationError";
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join("; "));
  }
}

export class InvalidTokenError extends Error {
  override readonly name = "InvalidTokenError";
  constructor(readonly reason: "malformed" | "signature" | "expired" | "purpose") {
    super(
      {
        malformed: "The token is not a leadloop token.",
        signature: "The token's signature does not match: it was altered or not issued here.",
        expired: "The token has expired.",
        purpose: "The token was issued for something else.",
      }[reason],
    );
  }
}

export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

export class UnknownBroadcastError extends Error {
  override readonly name = "UnknownBroadcastError";
  constructor(
    readonly broadcastId: string,
    known: string[],
  ) {
    super(
      `There is no broadcast "${broadcastId}" in config/broadcasts/. ${known.length > 0 ? `Known: ${known.join(", ")}.` : "Add one as config/broadcasts/<id>.yaml."}`,
    );
  }
}
