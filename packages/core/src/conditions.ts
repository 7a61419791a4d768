/**
 * The condition language shared by segments, scoring fit rules and step conditions, evaluated
 * against a lead's profile. Text compares case-insensitively because marketers write "VP" and
 * leads type "vp"; numeric strings ("500") compare as numbers because form posts arrive as text.
 */
import type { Condition, FieldCondition } from "./config/schema";
import { emailDomainOf, isFreeMail } from "./free-mail";

export interface ConditionContext {
  /** Extra free-mail domains from segments.yaml, added to the built-in list. */
  freeMailDomains: readonly string[];
}

type Scalar = string | number | boolean;

/**
 * True when the profile satisfies the condition. Several operators in one leaf must all hold.
 * A missing value (absent, null, blank text or an empty list) fails every operator except
 * `exists: false`; `not` inverts whatever its inner condition gives.
 */
export function evaluateCondition(
  cond: Condition,
  profile: Record<string, unknown>,
  ctx: ConditionContext = { freeMailDomains: [] },
): boolean {
  if ("all" in cond) return cond.all.every((c) => evaluateCondition(c, profile, ctx));
  if ("any" in cond) return cond.any.some((c) => evaluateCondition(c, profile, ctx));
  if ("not" in cond) return !evaluateCondition(cond.not, profile, ctx);
  return evaluateField(cond, profile[cond.field], ctx);
}

function evaluateField(cond: FieldCondition, raw: unknown, ctx: ConditionContext): boolean {
  const values = presentValues(raw);
  if (values.length === 0) return cond.exists === false && onlyExists(cond);
  const checks: boolean[] = [];
  if (cond.exists !== undefined) checks.push(cond.exists);
  if (cond.equals !== undefined) checks.push(values.some((v) => sameValue(v, cond.equals as Scalar)));
  if (cond.in !== undefined) checks.push(values.some((v) => cond.in?.some((option) => sameValue(v, option))));
  if (cond.contains !== undefined) {
    const needles = (Array.isArray(cond.contains) ? cond.contains : [cond.contains]).map((n) => n.toLowerCase());
    checks.push(values.some((v) => needles.some((n) => String(v).toLowerCase().includes(n))));
  }
  const numbers = values.map(asNumber).filter((n): n is number => n !== undefined);
  const compare = (bound: number | undefined, holds: (n: number, b: number) => boolean) => {
    if (bound !== undefined) checks.push(numbers.some((n) => holds(n, bound)));
  };
  compare(cond.gt, (n, b) => n > b);
  compare(cond.gte, (n, b) => n >= b);
  compare(cond.lt, (n, b) => n < b);
  compare(cond.lte, (n, b) => n <= b);
  if (cond.emailDomain !== undefined) {
    const kind = cond.emailDomain;
    checks.push(
      values.some((v) => {
        if (typeof v !== "string" || emailDomainOf(v) === undefined) return false;
        return isFreeMail(v, ctx.freeMailDomains) === (kind === "free");
      }),
    );
  }
  return checks.every(Boolean);
}

function onlyExists(cond: FieldCondition): boolean {
  return (["equals", "in", "contains", "gt", "gte", "lt", "lte", "emailDomain"] as const).every(
    (k) => cond[k] === undefined,
  );
}

/** The value's non-empty scalars: a multi-select list counts as each of its entries. */
function presentValues(raw: unknown): Scalar[] {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.filter(
    (v): v is Scalar =>
      (typeof v === "string" && v.trim() !== "") ||
      (typeof v === "number" && Number.isFinite(v)) ||
      typeof v === "boolean",
  );
}

const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$/;

function asNumber(v: Scalar): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && NUMERIC.test(v)) return Number(v);
  return undefined;
}

function sameValue(value: Scalar, expected: Scalar): boolean {
  if (typeof expected === "number") return asNumber(value) === expected;
  if (typeof value === "number") return asNumber(expected) === value;
  return String(value).trim().toLowerCase() === String(expected).trim().toLowerCase();
}
