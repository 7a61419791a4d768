/**
 * The adapter boundary for errors: what the SDK throws becomes a core error or a store error,
 * so nothing AWS-shaped reaches a use case.
 */
import { StoreUnavailableError } from "@leadloop/core";

/** A store call failed for a reason retrying will not fix (a bad request, a missing table). */
export class StoreError extends Error {
  override readonly name = "StoreError";
}

/** The lead named does not exist. */
export class LeadNotFoundError extends Error {
  override readonly name = "LeadNotFoundError";
  constructor(readonly leadId: string) {
    super(`There is no lead ${leadId}.`);
  }
}

const RETRYABLE_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionInProgressException",
  "TransactionConflictException",
  "LimitExceededException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "AbortError",
]);

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);

interface AwsLikeError {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function isRetryable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as AwsLikeError;
  if (e.name && RETRYABLE_NAMES.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** Already-translated errors pass through; everything else is wrapped. */
export function translateError(error: unknown, doing: string): Error {
  if (error instanceof StoreUnavailableError || error instanceof StoreError || error instanceof LeadNotFoundError) {
    return error;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (isRetryable(error)) {
    return new StoreUnavailableError(`DynamoDB unavailable while ${doing} (${message})`, { cause: error });
  }
  return new StoreError(`DynamoDB failed while ${doing} (${message})`, { cause: error });
}
