/**
 * EventBridge content filtering, evaluated in process. The local bus routes every event through
 * this matcher with the very patterns the SST stacks deploy, so it follows the AWS documentation
 * (Event patterns → Comparison operators, and the event-ruler library behind them) case by case:
 *
 * - a field's pattern is a list of alternatives (OR); all fields of a pattern must match (AND);
 * - an event array matches when any of its elements does; objects inside arrays are matched
 *   element by element, so two fields never match from two different elements (where the docs
 *   are silent, `{"exists": false}` below such an array is judged per element too);
 * - operators apply to leaf values (string, number, boolean, null) only: an object, an empty
 *   array or a missing field has no leaf, which only `{"exists": false}` accepts;
 * - `anything-but` needs a leaf that is not excluded, so it never matches a missing field;
 * - `prefix`, `suffix`, `wildcard` and `equals-ignore-case` only match strings, `numeric` only
 *   JSON numbers, `cidr` only strings holding an IP address.
 *
 * A pattern is validated and compiled into closures once, then cached per pattern object:
 * treat patterns as immutable after their first use.
 */

export type PatternScalar = string | number | boolean | null;
export type NumericOperator = "<" | "<=" | "=" | ">" | ">=";

export type AnythingBut =
  | string
  | number
  | string[]
  | number[]
  | { prefix: string }
  | { suffix: string }
  | { wildcard: string | string[] }
  | { "equals-ignore-case": string | string[] };

export type PatternOperator =
  | { prefix: string | { "equals-ignore-case": string } }
  | { suffix: string | { "equals-ignore-case": string } }
  | { "equals-ignore-case": string }
  | { wildcard: string }
  | { "anything-but": AnythingBut }
  | { numeric: Array<NumericOperator | number> }
  | { exists: boolean }
  | { cidr: string };

/** The alternatives for one field: the field matches when any of them does. */
export type PatternValues = Array<PatternScalar | PatternOperator>;

/** Field names map to alternatives or to nested patterns; `$or` maps to a list of patterns. */
export interface EventPattern {
  [field: string]: PatternValues | EventPattern | EventPattern[];
}

export class InvalidPatternError extends Error {
  override readonly name = "InvalidPatternError";
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`Invalid event pattern at ${path}: ${problem}`);
  }
}

type Leaf = string | number | boolean | null;
type Fields = Record<string, unknown>;
type FieldsTest = (fields: Fields) => boolean;
type NodeTest = (node: unknown) => boolean;
type LeavesTest = (leaves: readonly Leaf[]) => boolean;
type LeafTest = (leaf: Leaf) => boolean;

const OPERATORS = [
  "prefix",
  "suffix",
  "equals-ignore-case",
  "wildcard",
  "anything-but",
  "numeric",
  "exists",
  "cidr",
] as const;
const NUMERIC_OPERATORS: readonly string[] = ["<", "<=", "=", ">", ">="];
// event-ruler's documented range for numeric matching.
const NUMERIC_LIMIT = 5e9;
const NO_LEAVES: readonly Leaf[] = [];
const NO_FIELDS: Fields = {};

const compiled = new WeakMap<object, NodeTest>();

/** Validates `pattern` and returns a reusable test for events. */
export function compilePattern(pattern: unknown): (event: unknown) => boolean {
  if (!isObject(pattern)) {
    throw new InvalidPatternError("(root)", `a pattern must be a JSON object, got ${describe(pattern)}`);
  }
  let test = compiled.get(pattern);
  if (!test) {
    test = compileNode(pattern, "");
    compiled.set(pattern, test);
  }
  return test;
}

/** Throws an InvalidPatternError naming the first malformed part of `pattern`. */
export function validatePattern(pattern: unknown): asserts pattern is EventPattern {
  compilePattern(pattern);
}

/** Whether `event` matches `pattern`; throws InvalidPatternError for a malformed pattern. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

// ---------------------------------------------------------------------------------------------
// Structure: objects, arrays, $or

function compileNode(pattern: Fields, path: string): NodeTest {
  const test = compileFields(pattern, path);
  return (node) => {
    if (isObject(node)) return test(node);
    if (Array.isArray(node)) {
      const elements = objectsIn(node);
      return elements.length === 0 ? test(NO_FIELDS) : elements.some(test);
    }
    return test(NO_FIELDS);
  };
}

function compileFields(pattern: Fields, path: string): FieldsTest {
  const checks: FieldsTest[] = [];
  for (const [key, spec] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === "$or") {
      checks.push(compileOr(spec, at));
    } else if (Array.isArray(spec)) {
      const test = compileValues(spec, at);
      checks.push((fields) => test(leavesOf(field(fields, key))));
    } else if (isObject(spec)) {
      const test = compileNode(spec, at);
      checks.push((fields) => test(field(fields, key)));
    } else {
      throw new InvalidPatternError(
        at,
        `values to match must be in a list, e.g. [${JSON.stringify(spec)}], or be an object of nested fields; got ${describe(spec)}`,
      );
    }
  }
  return (fields) => {
    for (const check of checks) if (!check(fields)) return false;
    return true;
  };
}

function compileOr(spec: unknown, path: string): FieldsTest {
  if (!Array.isArray(spec) || spec.length < 2 || !spec.every(isObject)) {
    throw new InvalidPatternError(
      path,
      `$or takes a list of at least two patterns, e.g. "$or": [{ "a": ["x"] }, { "b": ["y"] }]; got ${describe(spec)}`,
    );
  }
  const branches = spec.map((branch, i) => compileFields(branch, `${path}[${i}]`));
  return (fields) => branches.some((branch) => branch(fields));
}

// ---------------------------------------------------------------------------------------------
// Leaves: the list of alternatives for one field

function compileValues(spec: unknown[], path: string): LeavesTest {
  if (spec.length === 0) throw new InvalidPatternError(path, "an empty list matches nothing; list at least one value");
  const exact = new Set<Leaf>();
  const tests: LeafTest[] = [];
  let ifPresent = false;
  let ifMissing = false;
  spec.forEach((item, i) => {
    const at = `${path}[${i}]`;
    if (isLeaf(item)) {
      if (typeof item === "number" && !Number.isFinite(item)) throw new InvalidPatternError(at, "numbers must be finite");
      exact.add(item);
    } else if (isObject(item)) {
      const operator = compileOperator(item, at);
      if (typeof operator === "boolean") {
        if (operator) ifPresent = true;
        else ifMissing = true;
      } else tests.push(operator);
    } else {
      throw new InvalidPatternError(at, `expected a string, number, boolean, null or operator object, got ${describe(item)}`);
    }
  });
  return (leaves) => {
    if (leaves.length === 0) return ifMissing;
    if (ifPresent) return true;
    for (const leaf of leaves) {
      if (exact.has(leaf)) return true;
      for (const test of tests) if (test(leaf)) return true;
    }
    return false;
  };
}

/** Returns a leaf test, or for `exists` the boolean it asks for. */
function compileOperator(item: Fields, path: string): LeafTest | boolean {
  const keys = Object.keys(item);
  const [name] = keys;
  if (keys.length !== 1 || name === undefined) {
    throw new InvalidPatternError(path, `an operator object has exactly one key, got ${keys.length ? keys.join(", ") : "none"}`);
  }
  const arg = item[name];
  const at = `${path}.${name}`;
  switch (name) {
    case "prefix":
      return compileAffix(arg, at, (value, affix) => value.startsWith(affix));
    case "suffix":
      return compileAffix(arg, at, (value, affix) => value.endsWith(affix));
    case "equals-ignore-case":
      return anyOf(stringList(arg, at, false).map(equalsIgnoreCase));
    case "wildcard":
      return wildcard(requireString(arg, at), at);
    case "anything-but": {
      const excluded = compileExcluded(arg, at);
      return (leaf) => !excluded(leaf);
    }
    case "numeric":
      return compileNumeric(arg, at);
    case "exists":
      if (typeof arg !== "boolean") throw new InvalidPatternError(at, `exists takes true or false, got ${describe(arg)}`);
      return arg;
    case "cidr":
      return compileCidr(arg, at);
    default:
      throw new InvalidPatternError(path, `unknown operator "${name}"; known operators: ${OPERATORS.join(", ")}`);
  }
}

function compileAffix(arg: unknown, path: string, test: (value: string, affix: string) => boolean): LeafTest {
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1 || keys[0] !== "equals-ignore-case") {
      throw new InvalidPatternError(path, `takes a string or { "equals-ignore-case": "…" }, got ${describe(arg)}`);
    }
    const affix = fold(requireString(arg["equals-ignore-case"], `${path}.equals-ignore-case`));
    return (leaf) => typeof leaf === "string" && test(fold(leaf), affix);
  }
  const affix = requireString(arg, path);
  return (leaf) => typeof leaf === "string" && test(leaf, affix);
}

/** The leaves an `anything-but` excludes. */
function compileExcluded(arg: unknown, path: string): LeafTest {
  if (typeof arg === "string" || (typeof arg === "number" && Number.isFinite(arg))) return (leaf) => leaf === arg;
  if (Array.isArray(arg)) {
    const allStrings = arg.every((v) => typeof v === "string");
    const allNumbers = arg.every((v) => typeof v === "number" && Number.isFinite(v));
    if (arg.length === 0 || !(allStrings || allNumbers)) {
      throw new InvalidPatternError(path, `takes a non-empty list of only strings or only numbers, got ${describe(arg)}`);
    }
    const excluded = new Set<unknown>(arg);
    return (leaf) => excluded.has(leaf);
  }
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    const [name] = keys;
    const at = `${path}.${name}`;
    if (keys.length === 1) {
      switch (name) {
        case "prefix": {
          const prefix = requireString(arg[name], at);
          return (leaf) => typeof leaf === "string" && leaf.startsWith(prefix);
        }
        case "suffix": {
          const suffix = requireString(arg[name], at);
          return (leaf) => typeof leaf === "string" && leaf.endsWith(suffix);
        }
        case "equals-ignore-case":
          return anyOf(stringList(arg[name], at, true).map(equalsIgnoreCase));
        case "wildcard":
          return anyOf(stringList(arg[name], at, true).map((w) => wildcard(w, at)));
      }
    }
  }
  throw new InvalidPatternError(
    path,
    `takes a string, a number, a list of either, or one of { "prefix" | "suffix" | "wildcard" | "equals-ignore-case": … }; got ${describe(arg)}`,
  );
}

function compileNumeric(arg: unknown, path: string): LeafTest {
  const usage = `numeric takes operator/number pairs such as ["=", 5], [">", 0] or [">=", 0, "<", 10]`;
  if (!Array.isArray(arg) || arg.length === 0 || arg.length > 4 || arg.length % 2 !== 0) {
    throw new InvalidPatternError(path, `${usage}; got ${describe(arg)}`);
  }
  let lower: { value: number; inclusive: boolean } | undefined;
  let upper: { value: number; inclusive: boolean } | undefined;
  let equal: number | undefined;
  for (let i = 0; i < arg.length; i += 2) {
    const operator: unknown = arg[i];
    const value: unknown = arg[i + 1];
    if (typeof operator !== "string" || !NUMERIC_OPERATORS.includes(operator)) {
      throw new InvalidPatternError(path, `unknown numeric operator ${describe(operator)}; use one of ${NUMERIC_OPERATORS.join(" ")}`);
    }
    if (typeof value !== "number" || !Number.isFinite(value) || Math.abs(value) > NUMERIC_LIMIT) {
      throw new InvalidPatternError(path, `"${operator}" must be followed by a number between -5e9 and 5e9, got ${describe(value)}`);
    }
    if (operator === "=") {
      if (arg.length !== 2) throw new InvalidPatternError(path, `"=" cannot be combined with other operators`);
      equal = value;
    } else if (operator.startsWith(">")) {
      if (lower) throw new InvalidPatternError(path, "a numeric range has at most one lower bound (> or >=)");
      lower = { value, inclusive: operator === ">=" };
    } else {
      if (upper) throw new InvalidPatternError(path, "a numeric range has at most one upper bound (< or <=)");
      upper = { value, inclusive: operator === "<=" };
    }
  }
  if (equal !== undefined) {
    const target = equal;
    return (leaf) => leaf === target;
  }
  if (lower && upper && lower.value >= upper.value) {
    throw new InvalidPatternError(path, `the lower bound ${lower.value} must be below the upper bound ${upper.value}`);
  }
  const low = lower;
  const high = upper;
  return (leaf) =>
    typeof leaf === "number" &&
    (!low || (low.inclusive ? leaf >= low.value : leaf > low.value)) &&
    (!high || (high.inclusive ? leaf <= high.value : leaf < high.value));
}

// ---------------------------------------------------------------------------------------------
// String operators

function equalsIgnoreCase(expected: string): LeafTest {
  const folded = fold(expected);
  return (leaf) => typeof leaf === "string" && fold(leaf) === folded;
}

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
function wildcard(pattern: string, path: string): LeafTest {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "\\") {
      const next = pattern.charAt(i + 1);
      if (next !== "*" && next !== "\\") {
        throw new InvalidPatternError(path, `in "${pattern}" a backslash may only escape * or \\`);
      }
      source += `\\${next}`;
      i++;
    } else if (c === "*") {
      if (pattern.charAt(i + 1) === "*") {
        throw new InvalidPatternError(path, `"${pattern}" has consecutive wildcards; one * already matches any run`);
      }
      source += ".*";
    } else {
      source += c.replace(/[\\^$.*+?()[\]{}|/]/, "\\$&");
    }
  }
  const regexp = new RegExp(`^${source}$`, "s");
  return (leaf) => typeof leaf === "string" && regexp.test(leaf);
}

function fold(text: string): string {
  return text.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// IP addresses

interface Address {
  bits: 32 | 128;
  value: bigint;
}

function compileCidr(arg: unknown, path: string): LeafTest {
  const text = requireString(arg, path);
  const [ip, length, ...rest] = text.split("/");
  const network = ip === undefined ? undefined : parseIp(ip);
  const prefix = length !== undefined && /^\d{1,3}$/.test(length) ? Number(length) : Number.NaN;
  if (!network || rest.length > 0 || !(prefix <= network.bits)) {
    throw new InvalidPatternError(path, `"${text}" is not a CIDR block such as 10.0.0.0/24 or 2001:db8::/32`);
  }
  const shift = BigInt(network.bits - prefix);
  const base = network.value >> shift;
  return (leaf) => {
    if (typeof leaf !== "string") return false;
    const address = parseIp(leaf);
    return address !== undefined && address.bits === network.bits && address.value >> shift === base;
  };
}

function parseIp(text: string): Address | undefined {
  if (text.includes(":")) return parseIpv6(text);
  const value = parseIpv4(text);
  return value === undefined ? undefined : { bits: 32, value };
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): Address | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = halves.map((half) => (half === "" ? [] : half.split(":")));
  const words: number[][] = [];
  for (const [h, half] of groups.entries()) {
    const parsed: number[] = [];
    for (const [g, group] of half.entries()) {
      const last = h === groups.length - 1 && g === half.length - 1;
      if (last && group.includes(".")) {
        const v4 = parseIpv4(group);
        if (v4 === undefined) return undefined;
        parsed.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-f]{1,4}$/i.test(group)) {
        parsed.push(Number.parseInt(group, 16));
      } else {
        return undefined;
      }
    }
    words.push(parsed);
  }
  const [head = [], tail = []] = words;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return { bits: 128, value: all.reduce((acc, word) => (acc << 16n) | BigInt(word), 0n) };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isLeaf(value: unknown): value is Leaf {
  return value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/** Own properties only: an event's `constructor` field is data, not Object.prototype's. */
function field(fields: Fields, key: string): unknown {
  return Object.hasOwn(fields, key) ? fields[key] : undefined;
}

function leavesOf(value: unknown): readonly Leaf[] {
  if (isLeaf(value)) return [value];
  if (!Array.isArray(value)) return NO_LEAVES;
  const leaves: Leaf[] = [];
  for (const element of value) leaves.push(...leavesOf(element));
  return leaves;
}

function objectsIn(array: unknown[]): Fields[] {
  const objects: Fields[] = [];
  for (const element of array) {
    if (isObject(element)) objects.push(element);
    else if (Array.isArray(element)) objects.push(...objectsIn(element));
  }
  return objects;
}

function anyOf(tests: LeafTest[]): LeafTest {
  const [only] = tests;
  if (tests.length === 1 && only) return only;
  return (leaf) => tests.some((test) => test(leaf));
}

function requireString(value: unknown, path: string): string {
  if (typeof value !== "string") throw new InvalidPatternError(path, `expected a string, got ${describe(value)}`);
  return value;
}

function stringList(value: unknown, path: string, allowList: boolean): string[] {
  if (allowList && Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) {
    return value;
  }
  return [requireString(value, path)];
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}…` : json;
}
