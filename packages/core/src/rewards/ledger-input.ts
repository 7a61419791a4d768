/** What the ledger routes share: ids a shop chooses, and bodies whose every bad field is named at once. */
import * as z from "../zod-mini";
import { type FieldIssue, ValidationError } from "../errors";

export const LedgerId = z
  .string("must be a string")
  .check(
    z.minLength(1, "is required"),
    z.maxLength(200, "must be at most 200 characters"),
    z.regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces, e.g. order-1042"),
  );

export function parseBody<T>(schema: z.ZodMiniType<T>, body: unknown, extra: (value: T) => FieldIssue[] = () => []): T {
  const parsed = schema.safeParse(body);
  const issues: FieldIssue[] = parsed.success
    ? extra(parsed.data)
    : parsed.error.issues.map((i) => ({
        field: i.path.length > 0 ? i.path.join(".") : "body",
        message: i.code === "unrecognized_keys" ? `has unknown field(s) ${i.keys.join(", ")}` : i.message,
      }));
  if (!parsed.success || issues.length > 0) throw new ValidationError(issues);
  return parsed.data;
}
