/**
 * `npm run redrive`: replays dead-lettered deliveries through the same handlers, and forgets each
 * one that succeeds. Every handler is idempotent, so replaying a delivery whose first attempt
 * half-succeeded is safe, and running redrive twice replays nothing twice.
 *
 *   npm run redrive [-- --list] [--url http://127.0.0.1:3000]
 *     the running local stack (its dead letters are kept in the data folder, dead-letters.json);
 *   npm run redrive -- --stage prod [--region eu-west-1] [--list] [--queue <url>]
 *     a deployed stage, with the operator's AWS credentials: reads each function's SQS dead-letter
 *     queue, re-invokes the function with the delivery it missed, and deletes the message once the
 *     function succeeded (a message that fails again stays, visible again after a minute).
 */
import { parseArgs } from "node:util";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { DeleteMessageCommand, ListQueuesCommand, type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { findRunningStack } from "./stack-file";

const USAGE = `Usage: npm run redrive -- [--list] [--url http://127.0.0.1:3000]
       npm run redrive -- --stage <stage> [--region <region>] [--queue <queue url>]... [--list]

Without --stage: the running local stack (LEADLOOP_URL, else PORT, else <data dir>/stack.json written by npm start;
LEADLOOP_DATA_DIR names the data folder, default .leadloop).
With --stage: the stage's dead-letter queues in AWS, with your AWS credentials.`;

interface LocalDeadLetter {
  id: string;
  rule: string;
  error: string;
  attempts: number;
  at: string;
  event: { "detail-type": string; detail: { leadId?: unknown } };
}

export async function redriveLocal(url: string, listOnly: boolean, out: (line: string) => void = console.log): Promise<{ redriven: number; failed: number; left: number }> {
  const listed = await fetch(`${url}/dev/dead-letters`).catch((error: unknown) => {
    throw new Error(`no local stack answers at ${url} (${String(error)}); start it with \`npm start\`, or pass --url / set LEADLOOP_URL`);
  });
  if (!listed.ok) throw new Error(`${url}/dev/dead-letters answered ${listed.status}: is this a leadloop local stack?`);
  const letters = (await listed.json()) as LocalDeadLetter[];
  out(`${letters.length} dead letter(s) at ${url}`);
  for (const l of letters) out(`  ${l.id}  ${l.rule}  ${l.event["detail-type"]}  lead ${String(l.event.detail.leadId ?? "–")}  ${l.attempts} attempts, last ${l.at}: ${l.error}`);
  if (listOnly || letters.length === 0) return { redriven: 0, failed: 0, left: letters.length };
  const res = await fetch(`${url}/dev/dead-letters/redrive`, { method: "POST" });
  if (!res.ok) throw new Error(`redrive answered ${res.status}: ${await res.text()}`);
  const report = (await res.json()) as { redriven: number; failed: number; unknownRule: number; left: number };
  out(`redriven ${report.redriven}, failed again ${report.failed}, rule no longer deployed ${report.unknownRule}; ${report.left} left`);
  return report;
}

/** What to invoke for one dead-letter message, from either kind of message the queues hold. */
export function replayOf(message: Message, stage: string): { functionName: string; payload: unknown } | undefined {
  const body = JSON.parse(message.Body ?? "null") as Record<string, unknown> | null;
  if (!body) return undefined;
  // Lambda's on-failure destination: the invocation record, with the original input.
  const context = body.requestContext as { functionArn?: string } | undefined;
  if (context?.functionArn && "requestPayload" in body) {
    return { functionName: context.functionArn.replace(/:\$LATEST$/, ""), payload: body.requestPayload };
  }
  // EventBridge's target dead-letter queue: the event, with the rule and target as attributes.
  const target = message.MessageAttributes?.TARGET_ARN?.StringValue;
  const ruleArn = message.MessageAttributes?.RULE_ARN?.StringValue;
  if (!target) return undefined;
  if ("rule" in body && "event" in body) return { functionName: target, payload: body };
  const ruleName = ruleArn?.split("/").pop()?.replace(`${stage}-leadloop-`, "");
  // A schedule's delivery carries no rule of ours: the job takes the event as it is.
  return { functionName: target, payload: ruleName && body["detail-type"] !== "Scheduled Event" ? { rule: ruleName, event: body } : body };
}

async function redriveDeployed(stage: string, region: string | undefined, queues: string[], listOnly: boolean): Promise<number> {
  const sqs = new SQSClient(region ? { region } : {});
  const lambda = new LambdaClient(region ? { region } : {});
  const urls = queues.length > 0 ? queues : ((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${stage}-` }))).QueueUrls ?? []).filter((u) => /DeadLetters/.test(u));
  if (urls.length === 0) console.log(`no dead-letter queues of stage ${stage} found (looked for queues named ${stage}-…DeadLetters…)`);
  let failed = 0;
  for (const queueUrl of urls) {
    let redriven = 0;
    let seen = 0;
    for (;;) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageAttributeNames: ["All"] }),
      );
      const messages = got.Messages ?? [];
      if (messages.length === 0) break;
      for (const message of messages) {
        seen++;
        const replay = replayOf(message, stage);
        if (!replay) {
          console.log(`  ${message.MessageId}: not a delivery this tool knows how to replay; left in the queue`);
          failed++;
          continue;
        }
        if (listOnly) {
          console.log(`  ${message.MessageId} → ${replay.functionName}: ${message.Body?.slice(0, 200)}`);
          continue;
        }
        const result = await lambda.send(new InvokeCommand({ FunctionName: replay.functionName, InvocationType: "RequestResponse", Payload: Buffer.from(JSON.stringify(replay.payload)) }));
        if (result.FunctionError) {
          console.log(`  ${message.MessageId} → ${replay.functionName} failed again (${result.FunctionError}): ${Buffer.from(result.Payload ?? new Uint8Array()).toString("utf8").slice(0, 300)}`);
          failed++;
          continue;
        }
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
        redriven++;
      }
      // Listing leaves every message where it was; the visibility timeout returns them in a minute.
      if (listOnly) break;
    }
    console.log(`${queueUrl}: ${seen} message(s)${listOnly ? "" : `, ${redriven} redriven`}`);
  }
  return failed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      list: { type: "boolean", default: false },
      url: { type: "string" },
      stage: { type: "string" },
      region: { type: "string" },
      queue: { type: "string", multiple: true },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.stage) {
    const failed = await redriveDeployed(values.stage, values.region, values.queue ?? [], values.list);
    if (failed > 0) process.exitCode = 1;
    return;
  }
  // LEADLOOP_URL, PORT, else the stack.json `npm start` wrote in the data folder.
  const url = values.url ?? findRunningStack(process.env).url;
  const report = await redriveLocal(url, values.list);
  if (report.failed > 0) process.exitCode = 1;
}

if (process.argv[1] && /redrive-cli\.[tj]s$/.test(process.argv[1])) {
  main().catch((error: unknown) => {
    console.error(`redrive: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(1);
  });
}
