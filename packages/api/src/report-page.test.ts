import { describe, expect, it } from "vitest";
import { reportPage } from "./report-page";

describe("reportPage", () => {
  it("ships inline scripts a browser can parse (a lost brace stops every card from loading)", () => {
    const scripts = [...reportPage(new Date("2026-12-07T10:00:00Z")).matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
    expect(scripts.filter((s) => s.trim() !== "").length).toBeGreaterThanOrEqual(2);
    for (const script of scripts) expect(() => new Function(script)).not.toThrow();
  });
});
