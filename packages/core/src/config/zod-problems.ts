/**
 * Turns zod issues into marketer-readable problems located in the YAML source: which setting,
 * what is wrong with it in plain words, and what to write instead.
 */
import type { z } from "zod";
import { suggest } from "./did-you-mean";
import { toIsoDuration } from "./duration-hint";
import type { Problem } from "./problem";
import type { PathSegment, YamlSource } from "./yaml-source";

type Issue = z.core.$ZodIssue;

export function zodProblems(source: YamlSource, schema: z.ZodType, issues: readonly Issue[]): Problem[] {
  const problems: Problem[] = [];
  const flat = flattenUnions(issues, []);
  // "needs an operator" next to an unknown key is the same mistake twice: the misspelt operator.
  const unknownKeyPaths = new Set(flat.filter((i) => i.code === "unrecognized_keys").map((i) => pathKey(i.path)));
  for (const issue of flat) {
    const path = issue.path.filter((p): p is PathSegment => typeof p !== "symbol");
    if (issue.code === "custom" && unknownKeyPaths.has(pathKey(path))) continue;
    const value = valueAt(source.data, path);
    const label = pathLabel(path);
    const problem = (message: string, hint?: string, target: "value" | "key" = "value", at = path): Problem => ({
      file: source.file,
      ...source.positionOf(at, target),
      message,
      ...(hint ? { hint } : {}),
    });

    switch (issue.code) {
      case "unrecognized_keys": {
        const allowed = keysAt(schema, path).filter((k) => k !== "$schema");
        for (const key of issue.keys) {
          problems.push(
            problem(
              `unknown setting \`${key}\`${label ? ` in ${label}` : ""}`,
              suggest(key, allowed, "settings allowed here"),
              "key",
              [...path, key],
            ),
          );
        }
        break;
      }
      case "invalid_key": {
        const inner = issue.issues[0]?.message ?? issue.message;
        problems.push(problem(`name \`${String(path.at(-1))}\` ${inner}`, undefined, "key"));
        break;
      }
      case "invalid_type":
        if (value === null) {
          problems.push(problem(`${label} has no value`, `write a value after \`${String(path.at(-1))}:\``));
        } else if (value === undefined) {
          problems.push(problem(`\`${String(path.at(-1))}\` is missing${parentLabel(path)}`, `add \`${String(path.at(-1))}: …\``));
        } else {
          problems.push(problem(`${label} should be ${describeType(issue.expected)}, not ${describeValue(value)}`));
        }
        break;
      case "invalid_value": {
        const options = issue.values.map(String);
        problems.push(
          problem(
            `${label} cannot be \`${String(value)}\``,
            suggest(String(value), options, "use one of"),
          ),
        );
        break;
      }
      case "invalid_format": {
        const iso = typeof value === "string" && issue.message.includes("ISO 8601") ? toIsoDuration(value) : undefined;
        if (iso !== undefined) {
          problems.push(problem(`${label} \`${String(value)}\` is not a duration leadloop understands`, `write ${iso}`));
        } else {
          problems.push(problem(`${label} ${friendlyFormat(issue)}`));
        }
        break;
      }
      case "too_small":
        problems.push(problem(`${label} ${tooSmall(issue)}`));
        break;
      case "too_big":
        problems.push(problem(`${label} ${tooBig(issue)}`));
        break;
      default:
        problems.push(problem(label ? `${label}${/^(must|needs) /.test(issue.message) ? " " : ": "}${issue.message}` : issue.message));
    }
  }
  return problems;
}

/** Keeps, for each union that failed as a whole, the issues of the alternative closest to the input. */
function flattenUnions(issues: readonly Issue[], prefix: PropertyKey[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const cost = (branch: readonly Issue[]) =>
        branch.reduce((sum, i) => sum + (i.code === "unrecognized_keys" ? i.keys.length : 1), 0);
      const best = issue.errors.reduce((a, b) => (cost(b) < cost(a) ? b : a));
      out.push(...flattenUnions(best, path));
    } else {
      out.push({ ...issue, path } as Issue);
    }
  }
  return out;
}

interface DefLike {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
  in?: z.ZodType;
}

/** The setting names a schema allows at `path`, across every alternative of any union on the way. */
export function keysAt(schema: z.ZodType, path: readonly PathSegment[], seen = new Set<z.ZodType>()): string[] {
  if (seen.has(schema)) return [];
  const def = schema._zod.def as unknown as DefLike;
  const inner = def.innerType ?? def.in ?? (def.type === "lazy" ? def.getter?.() : undefined);
  if (inner !== undefined) return keysAt(inner, path, new Set([...seen, schema]));
  if (def.type === "union") return [...new Set((def.options ?? []).flatMap((o) => keysAt(o, path, seen)))];
  const [head, ...rest] = path;
  if (head === undefined) return def.type === "object" ? Object.keys(def.shape ?? {}) : [];
  const next =
    def.type === "object"
      ? def.shape?.[String(head)]
      : def.type === "array"
        ? def.element
        : def.type === "record"
          ? def.valueType
          : undefined;
  return next === undefined ? [] : keysAt(next, rest, new Set());
}

function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join("\u0000");
}

export function pathLabel(path: readonly PathSegment[]): string {
  return path.reduce<string>(
    (label, p) => (typeof p === "number" ? `${label}[${p}]` : label ? `${label}.${p}` : p),
    "",
  );
}

function parentLabel(path: readonly PathSegment[]): string {
  const parent = pathLabel(path.slice(0, -1));
  return parent ? ` in ${parent}` : "";
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const p of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PathSegment, unknown>)[p];
  }
  return value;
}

function describeType(expected: string): string {
  const names: Record<string, string> = {
    string: "text",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    array: "a list (one `- item` per line, or [a, b])",
    object: "a block of settings",
    record: "a block of named entries",
  };
  return names[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a block of settings";
  if (typeof value === "string") return `the text "${value}"`;
  return `\`${String(value)}\``;
}

function friendlyFormat(issue: Extract<Issue, { code: "invalid_format" }>): string {
  if (issue.format === "url") return "must be a full web address such as https://www.example.com/thank-you";
  if (issue.format === "email") return "must be an email address such as rep@example.com";
  return issue.message.startsWith("must") ? issue.message : `is not valid: ${issue.message}`;
}

function tooSmall(issue: Extract<Issue, { code: "too_small" }>): string {
  const min = Number(issue.minimum);
  if (issue.origin === "array") return `needs at least ${min} item${min === 1 ? "" : "s"}`;
  if (issue.origin === "string") return min <= 1 ? "must not be empty" : `must be at least ${min} characters`;
  return issue.inclusive === false ? `must be more than ${min}` : `must be at least ${min}`;
}

function tooBig(issue: Extract<Issue, { code: "too_big" }>): string {
  const max = Number(issue.maximum);
  if (issue.origin === "array") return `may have at most ${max} items`;
  if (issue.origin === "string") return `must be at most ${max} characters`;
  return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
}
