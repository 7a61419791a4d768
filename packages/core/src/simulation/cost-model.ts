/**
 * An AWS bill estimate from operation counts. The unit prices are us-east-1 list prices; the
 * per-operation figures are assumptions about what each use case does to the table, the bus and
 * Lambda, named here so a reader can check them against the code and change them in one place.
 */

/** US$ per million on-demand write request units. */
export const DYNAMODB_USD_PER_MILLION_WRU = 1.25;
/** US$ per million on-demand read request units. */
export const DYNAMODB_USD_PER_MILLION_RRU = 0.25;
/** US$ per million custom events put on EventBridge. */
export const EVENTBRIDGE_USD_PER_MILLION_EVENTS = 1.0;
/** US$ per million Lambda requests. */
export const LAMBDA_USD_PER_MILLION_INVOCATIONS = 0.2;
/** US$ per GB-second of Lambda compute (x86). */
export const LAMBDA_USD_PER_GB_SECOND = 0.0000166667;
/** US$ per 1,000 emails sent through SES. */
export const SES_USD_PER_THOUSAND_EMAILS = 0.1;

/** Lambdas are sized at 512 MB and a typical handler (one or two table calls) runs ~150 ms. */
export const LAMBDA_MEMORY_GB = 0.5;
export const LAMBDA_AVERAGE_SECONDS = 0.15;
/** The due-index sweeper runs once a minute whether or not anything is due. */
export const SWEEPER_RUNS_PER_DAY = 1440;
/** Each sweeper run queries every shard of the due index (1 RRU per empty query). */
export const DUE_INDEX_SHARDS = 8;

export interface OperationCost {
  /** DynamoDB write request units (items ≤ 1 KB; a conditional write costs the same). */
  wru: number;
  rru: number;
  /** Events put on the bus (our own; SES's events arrive on the default bus for free). */
  events: number;
  invocations: number;
  emails: number;
}

/** What each simulated action costs; comments give the items touched. */
export const OPERATION_COSTS = {
  /** API Lambda: conditional put of the lead (dedupe), form activity, consent → lead.captured. */
  capture: { wru: 3, rru: 1, events: 1, invocations: 1, emails: 0 },
  /** Double opt-in: confirmation email and its token record; the click is one more API call. */
  confirmation: { wru: 2, rru: 1, events: 0, invocations: 2, emails: 1 },
  /** Enroll Lambda (one per routed event): read lead and enrollment, write enrollment + due entry. */
  enroll: { wru: 2, rru: 2, events: 0, invocations: 1, emails: 0 },
  /** Sweeper: claim, message record, settle with next due entry, activity; reads lead, suppression, recent sends → email.sent. */
  send: { wru: 4, rru: 3, events: 1, invocations: 0, emails: 1 },
  /** A step skipped by its condition: claim and settle, read the previous message. */
  skip: { wru: 2, rru: 3, events: 0, invocations: 0, emails: 0 },
  /** SES event (delivery, open, click, bounce) → engagement Lambda: find message, update it, activity, rescore. */
  sesEvent: { wru: 3, rru: 2, events: 0, invocations: 1, emails: 0 },
  /** Site script → API: activity and rescore → lead.scored. */
  webEvent: { wru: 2, rru: 2, events: 1, invocations: 1, emails: 0 },
  /** Unsubscribe: suppression item, lead stage, enrollments ended → lead.unsubscribed. */
  unsubscribe: { wru: 3, rru: 1, events: 1, invocations: 1, emails: 0 },
  /** Qualification and hand-off: stage, queue item, assignment, activity; rep notification email → lead.qualified, lead.assigned. */
  handoff: { wru: 4, rru: 2, events: 2, invocations: 2, emails: 1 },
  /** A missed claim SLA: reassign to the next rep and notify them again. */
  reassign: { wru: 2, rru: 1, events: 1, invocations: 1, emails: 1 },
  /** Rep claims (conditional update of the queue item) → lead.claimed. */
  claim: { wru: 2, rru: 1, events: 1, invocations: 1, emails: 0 },
  /** Outcome: lead stage, queue item, activity, report row → lead.closed, then the feedback Lambda. */
  outcome: { wru: 4, rru: 2, events: 1, invocations: 2, emails: 0 },
  /** Not-now date reached: score reset, stage, activity → lead.recycled. */
  recycle: { wru: 3, rru: 1, events: 1, invocations: 1, emails: 0 },
  /** Purchase API: idempotency record, ledger entry, balance. */
  purchase: { wru: 3, rru: 2, events: 0, invocations: 1, emails: 0 },
} as const satisfies Record<string, OperationCost>;

export type CostedOperation = keyof typeof OPERATION_COSTS;

export interface CostEstimate {
  operations: Record<CostedOperation, number>;
  totals: OperationCost & { lambdaGbSeconds: number };
  /** US$ for the whole simulated period. */
  usd: { dynamodb: number; eventbridge: number; lambda: number; ses: number; total: number };
  /** The same, per 1,000 captured leads: what each extra thousand leads adds to the bill. */
  usdPerThousandLeads: { dynamodb: number; eventbridge: number; lambda: number; ses: number; total: number };
  /** The sweeper's cost for the period, paid even with no leads at all. */
  fixedUsd: number;
  assumptions: string[];
}

export function estimateCost(operations: Record<CostedOperation, number>, leads: number, days: number): CostEstimate {
  const totals = { wru: 0, rru: 0, events: 0, invocations: 0, emails: 0 };
  for (const [op, count] of Object.entries(operations) as [CostedOperation, number][]) {
    const unit = OPERATION_COSTS[op];
    totals.wru += unit.wru * count;
    totals.rru += unit.rru * count;
    totals.events += unit.events * count;
    totals.invocations += unit.invocations * count;
    totals.emails += unit.emails * count;
  }
  const lambdaGbSeconds = totals.invocations * LAMBDA_MEMORY_GB * LAMBDA_AVERAGE_SECONDS;
  const usd = {
    dynamodb: (totals.wru * DYNAMODB_USD_PER_MILLION_WRU + totals.rru * DYNAMODB_USD_PER_MILLION_RRU) / 1e6,
    eventbridge: (totals.events * EVENTBRIDGE_USD_PER_MILLION_EVENTS) / 1e6,
    lambda: (totals.invocations * LAMBDA_USD_PER_MILLION_INVOCATIONS) / 1e6 + lambdaGbSeconds * LAMBDA_USD_PER_GB_SECOND,
    ses: (totals.emails * SES_USD_PER_THOUSAND_EMAILS) / 1000,
    total: 0,
  };
  usd.total = usd.dynamodb + usd.eventbridge + usd.lambda + usd.ses;
  const per = (v: number) => (leads > 0 ? (v * 1000) / leads : 0);
  const sweeperRuns = SWEEPER_RUNS_PER_DAY * days;
  const fixedUsd =
    (sweeperRuns * LAMBDA_USD_PER_MILLION_INVOCATIONS) / 1e6 +
    sweeperRuns * LAMBDA_MEMORY_GB * LAMBDA_AVERAGE_SECONDS * LAMBDA_USD_PER_GB_SECOND +
    (sweeperRuns * DUE_INDEX_SHARDS * DYNAMODB_USD_PER_MILLION_RRU) / 1e6;
  return {
    operations,
    totals: { ...totals, lambdaGbSeconds },
    usd,
    usdPerThousandLeads: {
      dynamodb: per(usd.dynamodb),
      eventbridge: per(usd.eventbridge),
      lambda: per(usd.lambda),
      ses: per(usd.ses),
      total: per(usd.total),
    },
    fixedUsd,
    assumptions: [
      `on-demand DynamoDB at $${DYNAMODB_USD_PER_MILLION_WRU}/M writes and $${DYNAMODB_USD_PER_MILLION_RRU}/M reads; items under 1 KB`,
      `per capture ~${OPERATION_COSTS.capture.wru} WRU + ${OPERATION_COSTS.capture.rru} RRU; per send ~${OPERATION_COSTS.send.wru} WRU + ${OPERATION_COSTS.send.rru} RRU; per SES event ~${OPERATION_COSTS.sesEvent.wru} WRU + ${OPERATION_COSTS.sesEvent.rru} RRU`,
      `EventBridge $${EVENTBRIDGE_USD_PER_MILLION_EVENTS}/M custom events; SES's own events are not billed as custom events`,
      `Lambda $${LAMBDA_USD_PER_MILLION_INVOCATIONS}/M requests + ${LAMBDA_MEMORY_GB * 1024} MB × ${LAMBDA_AVERAGE_SECONDS * 1000} ms each`,
      `SES $${SES_USD_PER_THOUSAND_EMAILS} per 1,000 emails (nurture, confirmations and rep notifications)`,
      `fixed: the sweeper runs ${SWEEPER_RUNS_PER_DAY}×/day over ${DUE_INDEX_SHARDS} shards, not counted per lead`,
      "free tiers, data transfer, CloudWatch logs and storage are left out",
    ],
  };
}
