/**
 * Least privilege: each function gets the named actions it calls, on this stage's table, bus and
 * SES identity only. No wildcard actions anywhere, and no "*" resource (stack tests check both).
 * Reading a secret's SSM parameter is granted by SST's `bind`, one parameter each.
 *
 * The DynamoDB part is derived, not hand-picked per function: `STORE_ACCESS` says which table
 * operations and indexes each store adapter's own code issues (a stack test reads the adapter's
 * source and fails when they disagree), `PORT_STORES` which adapters each registry port is built
 * from (functions/lib/registry-ports.ts), and `API_SURFACE_STORES` which adapters each family of API
 * routes calls. A function's policy is the union over what it is given, on the table and only the
 * indexes those adapters query.
 */
import type { PortName } from "@leadloop/core/registry";
import * as iam from "aws-cdk-lib/aws-iam";
import type { Function as SstFunction } from "sst/constructs";
import type { Core } from "./core-stack";

type CoreOutputs = ReturnType<typeof Core>;

/**
 * The item operations a store issues, as IAM names them. A transaction needs no action of its own:
 * IAM checks each item action inside one (Put, Update, Delete, ConditionCheck).
 */
export type TableAction = "GetItem" | "BatchGetItem" | "Query" | "Scan" | "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" | "ConditionCheckItem";
/** The table's global secondary indexes (packages/store/src/table.ts, TABLE_INDEXES). */
export type TableIndexName = "gsi1" | "due";

export interface TableAccess {
  actions: readonly TableAction[];
  indexes: readonly TableIndexName[];
}

/**
 * What each adapter module of packages/store/src issues itself (a module's own code, not what it
 * imports: `dynamo-lead-store` builds the confirmations, scores and outbox helpers, listed apart
 * because not every caller of the lead store reaches them).
 */
export const STORE_ACCESS = {
  "dynamo-lead-store": { actions: ["GetItem", "BatchGetItem", "PutItem", "UpdateItem", "Query"], indexes: ["gsi1"] },
  "dynamo-lead-scores": { actions: ["GetItem", "PutItem", "UpdateItem", "Query"], indexes: ["due"] },
  "dynamo-confirmations": { actions: ["GetItem", "PutItem", "Query"], indexes: ["due"] },
  // The outbox: written inside other stores' transactions, deleted once the bus took the event.
  "pending-events": { actions: ["PutItem", "UpdateItem", "DeleteItem", "Query"], indexes: ["due"] },
  "dynamo-nurture-store": { actions: ["GetItem", "PutItem", "UpdateItem", "Query", "ConditionCheckItem"], indexes: ["gsi1", "due"] },
  // The sweeper's batches of reads and of settlements with their sent messages.
  "dynamo-sweep-batch": { actions: ["BatchGetItem", "PutItem", "UpdateItem"], indexes: [] },
  // The due shards' sweep leases: taken, marked and given back with conditional updates.
  "dynamo-sweep-lease": { actions: ["UpdateItem"], indexes: [] },
  "dynamo-sales-store": { actions: ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"], indexes: ["gsi1", "due"] },
  "dynamo-feedback-store": { actions: ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"], indexes: ["due"] },
  "dynamo-report-store": { actions: ["GetItem", "PutItem", "UpdateItem", "Query"], indexes: [] },
  // GDPR erase deletes every item of a lead.
  "dynamo-lead-records": { actions: ["DeleteItem", "BatchWriteItem", "Query"], indexes: [] },
  // A broadcast's audience is every lead: read page by page with a bounded Scan.
  "dynamo-broadcast-store": { actions: ["GetItem", "PutItem", "UpdateItem", "Query", "Scan"], indexes: ["due"] },
  // The expiry job finds accounts whose points lapse in the due index.
  "dynamo-rewards-store": { actions: ["GetItem", "PutItem", "UpdateItem", "Query"], indexes: ["due"] },
  "dynamo-lead-quality": { actions: ["BatchGetItem", "PutItem"], indexes: [] },
  "dynamo-journey-counts": { actions: ["Query"], indexes: ["due"] },
  "dynamo-rate-windows": { actions: ["UpdateItem"], indexes: [] },
  // Read (consistently) on every request that presents an API key; the admin's list is gsi1's APIKEYS.
  "dynamo-api-keys": { actions: ["GetItem", "PutItem", "UpdateItem", "Query"], indexes: ["gsi1"] },
  // Outgoing webhook deliveries, their attempts owed in the due index.
  "dynamo-webhook-store": { actions: ["PutItem", "UpdateItem", "Query"], indexes: ["due"] },
} as const satisfies Record<string, TableAccess>;
export type StoreModule = keyof typeof STORE_ACCESS;

/** The lead store as every runtime builds it (functions/lib/runtime.ts), outbox apart. */
const LEADS: StoreModule[] = ["dynamo-lead-store", "dynamo-lead-scores", "dynamo-confirmations"];

/**
 * The adapters behind each registry port (functions/lib/registry-ports.ts). `nurture` is
 * the runtime's deps, whose lead store also exposes the outbox (the `outbox-republisher` job runs on it).
 */
export const PORT_STORES: Record<PortName, readonly StoreModule[]> = {
  // The sweeper reads a customer's points ledger for the retention emails' merge fields.
  nurture: [...LEADS, "pending-events", "dynamo-nurture-store", "dynamo-sweep-batch", "dynamo-sweep-lease", "dynamo-rewards-store"],
  // Hand-offs, claims and outcomes write outbox entries and remove them once announced.
  sales: [...LEADS, "pending-events", "dynamo-sales-store"],
  feedback: [...LEADS, "dynamo-feedback-store"],
  reports: ["dynamo-report-store"],
  records: ["dynamo-lead-records"],
  broadcasts: ["dynamo-broadcast-store"],
  // The points expiry job: the nurture deps (the tier-change email) and the points ledger.
  rewards: [...LEADS, "pending-events", "dynamo-nurture-store", "dynamo-rewards-store"],
  // Webhooks read the lead and its hand-off (the owner) and record deliveries.
  webhooks: [...LEADS, "dynamo-sales-store", "dynamo-webhook-store"],
};

/**
 * The routes a website or an email recipient reaches without a token. They capture, score site
 * events, unsubscribe and confirm: the lead store (no outbox: only sales, rewards and the
 * republisher announce through it), the nurture store (unsubscribing ends enrollments) and the
 * per-client rate windows. So whatever runs them cannot Scan the table or delete an item.
 */
export const PUBLIC_API_ROUTES = [
  "GET /health",
  "POST /v1/forms/{formId}/submissions",
  "POST /v1/events",
  "GET /v1/unsubscribe",
  "POST /v1/unsubscribe",
  "GET /v1/confirm",
  "POST /v1/confirm",
] as const;

/** The report routes (bearer tokens, marketing or admin): read-only, their own function. */
export const REPORT_API_ROUTES = [
  "GET /v1/reports/funnel", "GET /v1/reports/retention", "GET /reports", "GET /assets/chart.umd.js",
  "GET /v1/reports/cohorts", "GET /v1/reports/reviews", "GET /v1/reports/reviews/{leadId}/{closedAt}", "GET /v1/reports/calibration", "GET /v1/reports/ab-tests",
] as const;

export type ApiSurface = "public" | "authenticated" | "reports";

/** The adapters each family of API routes calls (functions/api.ts builds them). */
export const API_SURFACE_STORES: Record<ApiSurface, readonly StoreModule[]> = {
  public: [...LEADS, "dynamo-nurture-store", "dynamo-rate-windows"],
  authenticated: [
    ...LEADS,
    "pending-events",
    "dynamo-nurture-store",
    "dynamo-rate-windows",
    "dynamo-sales-store",
    "dynamo-lead-records",
    "dynamo-lead-quality",
    "dynamo-rewards-store",
    "dynamo-journey-counts",
    "dynamo-broadcast-store",
    "dynamo-api-keys",
    "dynamo-webhook-store",
  ],
  // The aggregates, deal reviews with the reps' verdicts, and customers' points for retention.
  reports: [...LEADS, "dynamo-rate-windows", "dynamo-report-store", "dynamo-lead-quality", "dynamo-rewards-store", "dynamo-api-keys"],
};

export function apiSurfaceOf(route: string): ApiSurface {
  if ((PUBLIC_API_ROUTES as readonly string[]).includes(route)) return "public";
  return (REPORT_API_ROUTES as readonly string[]).includes(route) ? "reports" : "authenticated";
}

const ACTION_ORDER: readonly TableAction[] = ["GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "ConditionCheckItem"];
const INDEX_ORDER: readonly TableIndexName[] = ["gsi1", "due"];

/** The union of what the given adapters issue, in a stable order. */
export function tableAccess(stores: Iterable<StoreModule>): TableAccess {
  const actions = new Set<TableAction>();
  const indexes = new Set<TableIndexName>();
  for (const store of stores) {
    const access: TableAccess = STORE_ACCESS[store];
    for (const action of access.actions) actions.add(action);
    for (const index of access.indexes) indexes.add(index);
  }
  return { actions: ACTION_ORDER.filter((a) => actions.has(a)), indexes: INDEX_ORDER.filter((i) => indexes.has(i)) };
}

/** What a registry entry's functions may do to the table: the adapters of the ports it names. */
export function portsTableAccess(ports: readonly PortName[]): TableAccess {
  return tableAccess(ports.flatMap((port) => PORT_STORES[port]));
}

/** What a function serving these API route families may do to the table. */
export function apiTableAccess(...surfaces: ApiSurface[]): TableAccess {
  return tableAccess(surfaces.flatMap((surface) => API_SURFACE_STORES[surface]));
}

/** What a function serving these routes (`"POST /v1/events"`…) may do to the table. */
export function routesTableAccess(routes: Iterable<string>): TableAccess {
  return apiTableAccess(...new Set([...routes].map(apiSurfaceOf)));
}

export type Capability = "table" | "publish" | "send-email";

export function grant(fn: SstFunction, core: CoreOutputs, capabilities: Capability[], table?: TableAccess): void {
  for (const capability of capabilities) {
    switch (capability) {
      case "table": {
        if (!table) throw new Error(`${fn.node.id} asks for the table without saying which adapters it runs (permissions.ts)`);
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: table.actions.map((action) => `dynamodb:${action}`),
            // Query on an index is authorised against the index's ARN, not the table's.
            resources: [core.table.tableArn, ...table.indexes.map((index) => `${core.table.tableArn}/index/${index}`)],
          }),
        );
        break;
      }
      case "publish":
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["events:PutEvents"], resources: [core.bus.eventBusArn] }));
        break;
      case "send-email":
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["ses:SendEmail"], resources: core.sendEmailResources }));
        break;
    }
  }
}
