import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IsoDuration } from "./schema";
import { toIsoDuration } from "./duration-hint";

describe("toIsoDuration", () => {
  it.each([
    ["3 days", "P3D"],
    ["4 hours", "PT4H"],
    ["1 week", "P1W"],
    ["2 weeks and 3 days", "P17D"],
    ["1 day 12 hours", "P1DT12H"],
    ["30 minutes", "PT30M"],
    ["3d", "P3D"],
    ["an hour", "PT1H"],
    ["p3d", "P3D"],
  ])("%s → %s", (input, expected) => {
    expect(toIsoDuration(input)).toBe(expected);
  });

  it.each(["soon", "3", "3 fortnights", "", "days 3"])("gives no hint for %j", (input) => {
    expect(toIsoDuration(input)).toBeUndefined();
  });

  it("always suggests a duration the schema accepts", () => {
    const unit = fc.constantFrom("days", "day", "hours", "h", "weeks", "minutes", "mins", "months", "years", "seconds");
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 999 }), unit), { minLength: 1, maxLength: 3 }), (parts) => {
        const hint = toIsoDuration(parts.map(([n, u]) => `${n} ${u}`).join(" "));
        if (hint !== undefined) expect(IsoDuration.safeParse(hint).success).toBe(true);
      }),
    );
  });
});
