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

const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name;

/** A conditional write (or a transaction) refused because a condition did not hold. */
export function isConditionFailure(error: unknown): boolean {
  if (errorName(error) === "ConditionalCheckFailedException") return true;
  if (errorName(error) !== "TransactionCanceledException") return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((r) => r.Code === "ConditionalCheckFailed");
}

/** Runs a store call, translating whatever the SDK throws (see translateError). */
export async function attempt<T>(doing: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translateError(error, doing);
  }
}

/** Runs a conditional write; false when its condition did not hold, anything else translated. */
export async function conditionally(doing: string, run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw translateError(error, doing);
  }
}
