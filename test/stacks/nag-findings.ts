/**
 * cdk-nag reports each finding as an error or warning annotation on the construct (an accepted
 * one, suppressed with its reason in infra/nag.ts, as info): read them from the cloud assembly, so
 * a stack test can require none.
 */
import type { CloudAssembly } from "aws-cdk-lib/cx-api";

export interface NagFinding {
  stack: string;
  /** The construct's path, e.g. /test-leadloop-api/ApiFunction/Resource. */
  path: string;
  /** The rule and its explanation, e.g. "AwsSolutions-IAM5[Resource::*]: The IAM entity contains wildcard permissions…". */
  message: string;
}

const RULE_PACKS = /^(AwsSolutions|Serverless)-/;

export function nagFindings(assembly: CloudAssembly): NagFinding[] {
  return assembly.stacks.flatMap((stack) =>
    stack.messages
      .filter((m) => (m.level === "error" || m.level === "warning") && RULE_PACKS.test(String(m.entry.data)))
      .map((m) => ({ stack: stack.stackName, path: m.id, message: String(m.entry.data).split("\n")[0] ?? "" })),
  );
}

/** One line per finding, for a failure message a reader can act on. */
export function describeFindings(findings: readonly NagFinding[]): string {
  return findings.map((f) => `${f.path}: ${f.message}`).join("\n");
}
