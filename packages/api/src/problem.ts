/**
 * RFC 9457 problem details: every error the API returns is `application/problem+json` with a
 * `detail` a person can act on. Domain errors map to statuses here and nowhere else.
 */
import {
  ClaimConflictError,
  type FieldIssue,
  ForbiddenError,
  InsufficientPointsError,
  InvalidTokenError,
  LedgerConflictError,
  NotACustomerError,
  NotEnoughDealsError,
  NotFoundError,
  PurchaseConflictError,
  RewardLimitError,
  RewardsNotConfiguredError,
  NotYourLeadError,
  SalesStateError,
  UnauthenticatedError,
  UnknownCustomerError,
  UnknownBroadcastError,
  UnknownFormError,
  UnknownApiKeyError,
  UnknownPurchaseError,
  ValidationError,
} from "@leadloop/core";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { forbiddenChallenge, unauthenticatedChallenge } from "./auth/www-authenticate";

/** The problem+json shape every error answer has (openapi.ts describes it as `ProblemDetails`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldIssue[];
  [extension: string]: unknown;
}

/** An error that already knows its HTTP answer (body limits, content types, rate limits…). */
export class HttpProblem extends Error {
  override readonly name = "HttpProblem";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export function problemOf(error: unknown): { problem: Problem; headers: Record<string, string> } {
  const make = (status: number, slug: string, title: string, detail: string, extra: Record<string, unknown> = {}) => ({
    problem: { type: `urn:leadloop:problem:${slug}`, title, status, detail, ...extra },
    headers: {},
  });
  if (error instanceof HttpProblem) {
    return {
      ...make(error.status, error.slug, error.title, error.message, error.extra),
      headers: error.headers,
    };
  }
  if (error instanceof ValidationError) {
    const fields = error.issues.map((i) => i.field).join(", ");
    return make(422, "validation", "Some fields are not valid", `Check these fields: ${fields}. ${error.message}.`, {
      errors: error.issues,
    });
  }
  if (error instanceof UnknownApiKeyError) return make(404, "unknown-api-key", "Unknown API key", error.message);
  if (error instanceof UnknownFormError) return make(404, "unknown-form", "Unknown form", error.message);
  if (error instanceof InvalidTokenError) return make(401, "invalid-token", "Invalid token", error.message);
  if (error instanceof UnauthenticatedError) {
    const problem = make(401, "unauthenticated", "Authentication required", error.message, { reason: error.reason });
    return { ...problem, headers: { "www-authenticate": unauthenticatedChallenge(error) } };
  }
  if (error instanceof ForbiddenError) {
    const problem = make(403, "forbidden", "Not allowed", error.message, { requiredRoles: error.required });
    return { ...problem, headers: { "www-authenticate": forbiddenChallenge(error) } };
  }
  if (error instanceof NotEnoughDealsError) return make(422, "not-enough-deals", "Not enough closed deals", error.message, { closed: error.closed, minimum: error.minimum });
  if (error instanceof NotFoundError) return make(404, "not-found", "Not found", error.message);
  if (error instanceof UnknownBroadcastError) return make(404, "unknown-broadcast", "Unknown broadcast", error.message);
  if (error instanceof UnknownCustomerError) return make(404, "unknown-customer", "Unknown customer", error.message);
  if (error instanceof NotACustomerError) return make(409, "not-a-customer", "Not a customer", error.message, { stage: error.stage });
  if (error instanceof PurchaseConflictError) {
    return make(409, "purchase-conflict", "Purchase id already used", error.message, { purchaseId: error.purchaseId, differs: error.differs });
  }
  if (error instanceof InsufficientPointsError) {
    return make(409, "insufficient-points", "Not enough points", error.message, { balance: error.balance, needed: error.needed });
  }
  if (error instanceof RewardLimitError) {
    return make(409, "reward-limit", "Reward limit reached", error.message, {
      rewardId: error.rewardId,
      limit: error.limit,
      used: error.used,
      ...(error.period ? { period: error.period } : {}),
      ...(error.nextAt ? { nextAt: error.nextAt } : {}),
    });
  }
  if (error instanceof LedgerConflictError) {
    return make(409, `${error.kind}-conflict`, `${error.kind[0]?.toUpperCase()}${error.kind.slice(1)} id already used`, error.message, { id: error.id, differs: error.differs });
  }
  if (error instanceof UnknownPurchaseError) return make(404, "unknown-purchase", "Unknown purchase", error.message, { purchaseId: error.purchaseId });
  if (error instanceof RewardsNotConfiguredError) return make(404, "rewards-not-configured", "No reward points here", error.message);
  if (error instanceof ClaimConflictError) {
    return make(409, "claim-conflict", "Claimed by someone else", error.message, error.holder ? { claimedBy: error.holder } : {});
  }
  if (error instanceof SalesStateError) return make(409, "sales-state", "Not possible now", error.message);
  if (error instanceof NotYourLeadError) return make(403, "not-your-lead", "Not your lead", error.message);
  return make(500, "internal", "Internal error", "Something went wrong on our side. Please try again shortly.");
}

export function problemResponse(c: Context, error: unknown): Response {
  const { problem, headers } = problemOf(error);
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, {
    "content-type": "application/problem+json",
    ...headers,
  });
}
