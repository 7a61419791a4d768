/**
 * Report: the target of the `report` rule (every leadloop event and SES's engagement events). Each
 * event adds to the funnel's day aggregates exactly once: the lead's report state and the
 * increments commit together, so EventBridge's redeliveries add nothing.
 */
import { recordReportEvent } from "@leadloop/core/reports/record-report-event";
import { createDocumentClient } from "@leadloop/store/document-client";
import { DynamoReportStore } from "@leadloop/store/dynamo-report-store";
import { ruleTarget } from "./lib/rule-target";
import { useRuntime } from "./lib/runtime";

const reports = new DynamoReportStore({ client: createDocumentClient(), tableName: useRuntime().env.TABLE_NAME });

export const handler = ruleTarget(async (event, _rule, { log }) => {
  const outcome = await recordReportEvent({ reports }, event);
  log.info("report", { outcome });
});
