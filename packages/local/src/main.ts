/**
 * `npm start`: runs the local stack until Ctrl-C. Data lives under .leadloop/ so a restart keeps
 * every lead; a second `npm start` picks it up.
 */
import { startLocalStack } from "./stack";
import { removeStackFile, writeStackFile } from "./stack-file";

// Node 20 is supported for the local stack; the SDK's advice to move to Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.LEADLOOP_DATA_DIR ?? ".leadloop";
// A fixed viewer address (bookmarks and the printed link survive a restart): PORT + 5 unless set.
const sesPort = process.env.LEADLOOP_SES_PORT ? Number(process.env.LEADLOOP_SES_PORT) : port > 0 ? port + 5 : undefined;
if (sesPort !== undefined && !(Number.isInteger(sesPort) && sesPort > 0 && sesPort < 65536)) {
  console.error(`leadloop could not start: LEADLOOP_SES_PORT must be a port number (1-65535), not "${process.env.LEADLOOP_SES_PORT}".`);
  process.exit(1);
}

const configDir = process.env.LEADLOOP_CONFIG_DIR ?? "config";
const stack = await startLocalStack({
  port,
  dataDir,
  ...(sesPort !== undefined ? { sesPort } : {}),
  configDir,
  // An edit under config/ is checked as config:check would and swapped in while running.
  watchConfig: true,
  logLevel: (process.env.LEADLOOP_LOG_LEVEL as "info" | "warn" | "error" | undefined) ?? "info",
  // e.g. LEADLOOP_CLOCK_START=2026-12-04T22:00:00Z npm start: try Friday night whatever the hour.
  ...(process.env.LEADLOOP_CLOCK_START ? { clockStartAt: process.env.LEADLOOP_CLOCK_START } : {}),
}).catch((error: unknown) => {
  console.error(`leadloop could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

// The CLIs (token, report, import) read this to find the stack and its data folder.
writeStackFile({ url: stack.url, port: Number(new URL(stack.url).port), pid: process.pid, dataDir });

console.log(`
leadloop local stack is running

  Demo form      ${stack.url}/
  Capture API    POST ${stack.url}/v1/forms/{formId}/submissions
  Emails sent    ${stack.url}/dev/emails
  Email viewer   ${stack.sesEndpoint}/   (the SES emulator's page; kept across restarts)
  Clock          POST ${stack.url}/dev/clock/advance  {"by":"P2D"}   (now ${stack.clock.now().toISOString()})
  Dead letters   ${stack.url}/dev/dead-letters   (replay them: npm run redrive)
  Config         ${configDir}/ is watched: a valid edit is swapped in, a broken one is reported here (version ${stack.configStatus().version}, ${stack.url}/dev/config)
  Health         ${stack.url}/health
  DynamoDB Local ${stack.dynamoEndpoint}  (table ${stack.tableName}, data in ${dataDir}/)

Press Ctrl-C to stop.
`);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local stack…`);
  await stack.stop();
  removeStackFile(dataDir);
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
