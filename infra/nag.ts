/**
 * cdk-nag: the AWS Solutions and Serverless rule packs, run on every synthesised stack by the
 * stack tests (a finding that is neither fixed nor suppressed here fails them). Each suppression
 * below is a decision, with its reason; everything else the packs found was fixed in the stacks
 * (own roles with logs scoped to the function's log group, retention and JSON on the API access
 * log, TLS-only topic and queues).
 */
import type { IAspect } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks, NagSuppressions, ServerlessChecks } from "cdk-nag";
import type { IConstruct } from "constructs";

/** The rule packs the stack tests apply. */
export function leadloopChecks(): IAspect[] {
  return [new AwsSolutionsChecks({ verbose: true }), new ServerlessChecks({ verbose: true })];
}

const RUNTIME =
  "Node.js 22 is the runtime the code is built and tested for (infra and bench bundle for node22; the local stack runs the same Node line); moving to a newer runtime is a deliberate upgrade with its own test run, not a lint fix";
const TRACING =
  "X-Ray is off on purpose: xray:PutTraceSegments has no resource-level permissions, so tracing needs an action on every resource ('*'); every log line carries the lead's id, which follows a lead across functions instead";

/** leadloop's own functions: built by infra/leadloop-function.ts (handler under functions/). */
function leadloopFunction(fn: lambda.Function): void {
  const asynchronous = fn.node.tryFindChild("EventInvokeConfig") !== undefined;
  NagSuppressions.addResourceSuppressions(fn, [
    { id: "AwsSolutions-L1", reason: RUNTIME },
    { id: "Serverless-LambdaLatestVersion", reason: RUNTIME },
    { id: "Serverless-LambdaTracing", reason: TRACING },
    {
      id: "Serverless-LambdaDLQ",
      reason: asynchronous
        ? "Failed asynchronous invocations go to an SQS on-failure destination (asyncTarget), which keeps the error with the event; a Lambda DLQ would keep only the event, so it would be a second, poorer copy"
        : "Invoked synchronously by API Gateway, which returns the error to the caller: a Lambda dead-letter queue applies to asynchronous invocations only",
    },
  ]);
}

/** SST adds one custom-resource function per stack for its own deploy-time bookkeeping. */
function sstCustomResourceHandler(fn: lambda.Function): void {
  const sst = "SST's own custom-resource handler, created by every sst@2.49.8 Stack for its deploy-time resources (sourcemap upload, secret prefetch): its code, runtime and role are SST's, it runs only during a deploy, and CloudFormation gets its errors";
  NagSuppressions.addResourceSuppressions(
    fn,
    [
      { id: "AwsSolutions-IAM4", reason: sst, appliesTo: ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"] },
      { id: "AwsSolutions-L1", reason: sst },
      { id: "Serverless-LambdaLatestVersion", reason: sst },
      { id: "Serverless-LambdaTracing", reason: sst },
      { id: "Serverless-LambdaDLQ", reason: sst },
    ],
    true,
  );
}

/**
 * The findings that hold for every stack, whatever defines the construct (the API may be split
 * into several functions; each gets the same treatment). Call once every stack is built.
 */
export function acceptKnownFindings(root: IConstruct): void {
  for (const construct of root.node.findAll()) {
    if (construct instanceof lambda.Function) {
      if (construct.node.id === "CustomResourceHandler") sstCustomResourceHandler(construct);
      else leadloopFunction(construct);
    } else if (construct instanceof apigwv2.CfnRoute && (construct.authorizationType ?? "NONE") === "NONE") {
      NagSuppressions.addResourceSuppressions(construct, [
        {
          id: "AwsSolutions-APIG4",
          reason:
            "Authorised in the app, not at the gateway: the public routes (form capture, site events, unsubscribe, confirm, health) must answer anyone, and every other route verifies a bearer token (HS256 or the stage's OIDC issuer) and its role in the hono app, which the local stack runs too (packages/api/src/auth)",
        },
      ]);
    }
  }
}

/** A dead-letter queue is where failures end: it has no dead-letter queue of its own. */
export function acceptDeadLetterQueue(queue: sqs.Queue): void {
  const reason = "This queue is itself a dead-letter queue (failed deliveries end here, an alarm fires on its first message, `npm run redrive` replays them); a queue behind it would only move the same messages one step further";
  NagSuppressions.addResourceSuppressions(queue, [
    { id: "AwsSolutions-SQS3", reason },
    { id: "Serverless-SQSRedrivePolicy", reason },
  ]);
}
