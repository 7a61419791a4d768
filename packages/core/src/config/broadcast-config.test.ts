import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pastBroadcastWarnings } from "./broadcast-warnings";
import { loadConfig } from "./load";

const FILE = "broadcasts/newsletter-2027-01.yaml";

function copyWith(edit: (text: string) => string, extra: Record<string, string> = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), "leadloop-broadcast-")), "config");
  cpSync("config", dir, { recursive: true });
  writeFileSync(join(dir, FILE), edit(readFileSync(join(dir, FILE), "utf8")));
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, file), text);
  return dir;
}

describe("broadcasts in config:check", () => {
  it("loads the shipped newsletter into config.broadcasts", () => {
    const { config, problems } = loadConfig("config");
    expect(problems).toEqual([]);
    expect(config?.broadcasts.map((b) => b.id)).toContain("newsletter-2027-01");
  });

  it("names an unknown template, segment, field and consent form at their lines, all in one run", () => {
    const dir = copyWith((t) =>
      t
        .replace("template: newsletter", "template: newsleter")
        .replace("segments: [self-serve,", "segments: [self-service,")
        .replace("consentForms: [newsletter]", "consentForms: [newsleter]\n  when: { field: companySise, gte: 10 }"),
    );
    const problems = loadConfig(dir).problems.filter((p) => p.file.endsWith(FILE));
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [7, "unknown template `newsleter`"],
      [10, "unknown segment `self-service`"],
      [11, "unknown form `newsleter`"],
      [12, "no form collects a field called `companySise`"],
    ]);
    expect(problems[0]?.hint).toContain("newsletter");
  });

  it("requires an unsubscribe link in the broadcast's template", () => {
    const dir = copyWith((t) => t, { "templates/newsletter.txt.liquid": "Hi {{ lead.firstName }}\n" });
    expect(loadConfig(dir).problems).toContainEqual(
      expect.objectContaining({ file: "config/templates/newsletter.txt.liquid", message: expect.stringContaining("unsubscribe link") }),
    );
  });

  it("refuses a sendAt that is neither an instant nor a local time", () => {
    const dir = copyWith((t) => t.replace(/sendAt:[\s\S]*$/, "sendAt: next tuesday\n"));
    const problems = loadConfig(dir).problems.filter((p) => p.file.endsWith(FILE));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.line).toBe(12);
  });

  it("warns at the line when sendAt has passed, and says when it will not go out at all", () => {
    const { config } = loadConfig("config");
    const soon = pastBroadcastWarnings("config", config!.broadcasts, new Date("2027-01-12T12:00:00Z"));
    expect(soon).toEqual([expect.objectContaining({ file: `config/${FILE}`, line: 13, message: expect.stringContaining("goes out as soon as it ships") })]);
    const late = pastBroadcastWarnings("config", config!.broadcasts, new Date("2027-02-01T00:00:00Z"));
    expect(late[0]?.message).toContain("will not be sent");
    expect(pastBroadcastWarnings("config", config!.broadcasts, new Date("2027-01-01T00:00:00Z"))).toEqual([]);
  });
});
