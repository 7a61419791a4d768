/**
 * Least privilege, spelled out: each function gets the named actions it calls, on this stage's
 * table, bus and SES identity only. No wildcard actions anywhere, and no "*" resource (stack tests
 * check both). Reading a secret's SSM parameter is granted by SST's `bind`, one parameter each.
 */
import * as iam from "aws-cdk-lib/aws-iam";
import type { Function as SstFunction } from "sst/constructs";
import type { Core } from "./core-stack";

type CoreOutputs = ReturnType<typeof Core>;

/** What the DynamoDB store calls. Transactions need no action of their own: IAM checks each item
 * action inside one (Put, Update, ConditionCheck…). */
const TABLE_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"];
const TABLE_WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"];

export type Capability = "table" | "publish" | "send-email";

export function grant(fn: SstFunction, core: CoreOutputs, capabilities: Capability[]): void {
  for (const capability of capabilities) {
    switch (capability) {
      case "table":
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: [...TABLE_READ, ...TABLE_WRITE],
            // `index/*`: every index of this one table (the store queries several); Query on an
            // index is authorised against the index's ARN, not the table's.
            resources: [core.table.tableArn, `${core.table.tableArn}/index/*`],
          }),
        );
        break;
      case "publish":
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["events:PutEvents"], resources: [core.bus.eventBusArn] }));
        break;
      case "send-email":
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["ses:SendEmail"], resources: core.sendEmailResources }));
        break;
    }
  }
}
