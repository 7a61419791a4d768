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
