/** Errors the rep workflow raises on purpose; packages/api/src/problem.ts maps each to a status. */

/** Another rep holds the lead: 409. */
export class ClaimConflictError extends Error {
  override readonly name = "ClaimConflictError";
  constructor(
    readonly leadId: string,
    readonly holder: string | undefined,
  ) {
    super(
      holder
        ? `Lead ${leadId} is already claimed by ${holder}. Pick another lead from your queue.`
        : `Lead ${leadId} was claimed by someone else a moment ago. Pick another lead from your queue.`,
    );
  }
}

/** The lead is not yet claimed, or already closed, so this action cannot happen now: 409. */
export class SalesStateError extends Error {
  override readonly name = "SalesStateError";
}

/** The caller may not act on this lead (not the claiming rep, or not on the lead's team): 403. */
export class NotYourLeadError extends Error {
  override readonly name = "NotYourLeadError";
}
