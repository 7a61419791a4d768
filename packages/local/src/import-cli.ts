/**
 * `npm run import -- <file.csv> --form <formId> [--dry-run] [--url <url>] [--data-dir <dir>]`:
 * imports leads into a running leadloop (see import-client.ts and `--help`).
 */
import { ImportFailedError, ImportUsageError, IMPORT_USAGE, runImport } from "./import-client";

// Node 20 is supported for the local tools; the SDK's advice to move to Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

runImport(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (report) => {
    process.exitCode = report && report.totals.errors > 0 ? 1 : 0;
  },
  (error: unknown) => {
    if (error instanceof ImportUsageError) process.stderr.write(`${error.message}\n\n${IMPORT_USAGE}\n`);
    else if (error instanceof ImportFailedError) process.stderr.write(`npm run import: ${error.message}\n`);
    else process.stderr.write(`npm run import failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
