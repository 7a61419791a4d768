/** Why a purchase or a points request was refused; packages/api/src/problem.ts maps each to a status. */
/** No lead has this id (404). */
export class UnknownCustomerError extends Error {
  override readonly name = "UnknownCustomerError";
  constructor(readonly leadId: string) {
    super(`There is no customer ${leadId}. Use the lead id leadloop returned when the lead was captured.`);
  }
}

/** The lead exists but has not been won: points are for customers only (409). */
export class NotACustomerError extends Error {
  override readonly name = "NotACustomerError";
  constructor(
    readonly leadId: string,
    readonly stage: string,
  ) {
    super(
      `Lead ${leadId} is not a customer (its stage is ${stage}), so it cannot earn points. ` +
        "A lead becomes a customer when a rep records the deal as won.",
    );
  }
}

/** The purchase id was used before with another amount, currency or time (409). */
export class PurchaseConflictError extends Error {
  override readonly name = "PurchaseConflictError";
  constructor(
    readonly purchaseId: string,
    readonly differs: string[],
  ) {
    super(
      `Purchase ${purchaseId} was already recorded with a different ${differs.join(", ")}. ` +
        "A purchase id names one purchase: retry with the original body, or use a new id for a new purchase.",
    );
  }
}

/** This deployment has no config/rewards.yaml (404: the feature is not there). */
export class RewardsNotConfiguredError extends Error {
  override readonly name = "RewardsNotConfiguredError";
  constructor() {
    super("Reward points are not set up here: add config/rewards.yaml and deploy again.");
  }
}

/** The balance does not cover what a redemption or a downward adjustment takes (409). */
export class InsufficientPointsError extends Error {
  override readonly name = "InsufficientPointsError";
  constructor(
    readonly leadId: string,
    readonly balance: number,
    readonly needed: number,
    what: string,
  ) {
    super(`The balance of ${leadId} is ${balance} points; ${what} needs ${needed}. Nothing was taken.`);
  }
}

/** The customer has already redeemed this reward as often as rewards.yaml allows (409). */
export class RewardLimitError extends Error {
  override readonly name = "RewardLimitError";
  constructor(
    readonly rewardId: string,
    readonly limit: number,
    readonly used: number,
    readonly period: string | undefined,
    readonly nextAt: string | undefined,
  ) {
    super(
      period
        ? `Reward ${rewardId} may be redeemed ${limit} time(s) per ${period}; this customer has redeemed it ${used} time(s) in that window.${nextAt ? ` It can be redeemed again from ${nextAt}.` : ""} Nothing was taken.`
        : `Reward ${rewardId} may be redeemed ${limit} time(s) per customer, and this customer has redeemed it ${used} time(s). Nothing was taken.`,
    );
  }
}

/** A redemption, refund or adjustment id was used before with a different body (409). */
export class LedgerConflictError extends Error {
  override readonly name = "LedgerConflictError";
  constructor(
    readonly kind: "redemption" | "refund" | "adjustment",
    readonly id: string,
    readonly differs: string[],
  ) {
    super(
      `The ${kind} ${id} was already recorded with a different ${differs.join(", ")}. ` +
        `An id names one ${kind}: retry with the original body, or use a new id for a new one.`,
    );
  }
}

/** The customer has no purchase with this id (404). */
export class UnknownPurchaseError extends Error {
  override readonly name = "UnknownPurchaseError";
  constructor(
    readonly leadId: string,
    readonly purchaseId: string,
  ) {
    super(`Customer ${leadId} has no purchase ${purchaseId}. Refunds and adjustments name a purchase id posted to /v1/customers/${leadId}/purchases.`);
  }
}
