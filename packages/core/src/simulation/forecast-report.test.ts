import { describe, expect, it } from "vitest";
import { formatChange, renderTable } from "./forecast-report";

describe("formatChange", () => {
  it("says how much a figure moved, with a real minus sign", () => {
    expect(formatChange(112, 87)).toBe("(−22%)");
    expect(formatChange(100, 108)).toBe("(+8%)");
    expect(formatChange(40, 40)).toBe("(no change)");
    expect(formatChange(0, 5)).toBe("(new)");
  });
});

describe("renderTable", () => {
  it("aligns text left and numbers right", () => {
    const table = renderTable(["segment", "MQLs"], [["smb", "7"], ["enterprise", "112"]], ["left", "right"]);
    expect(table.split("\n")).toEqual(["segment     MQLs", "──────────  ────", "smb            7", "enterprise   112"]);
  });
});
