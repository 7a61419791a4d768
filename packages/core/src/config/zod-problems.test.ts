import { describe, expect, it } from "vitest";
import { SequenceFile, SegmentsFile } from "./schema";
import { parseYamlSource } from "./yaml-source";
import { zodProblems } from "./zod-problems";

function check(text: string, schema: typeof SequenceFile | typeof SegmentsFile) {
  const source = parseYamlSource("config/x.yaml", text);
  const result = schema.safeParse(source.data);
  return result.success ? [] : zodProblems(source, schema, result.error.issues);
}

describe("zodProblems", () => {
  it("points a misspelt operator inside a nested condition at its key, with a suggestion, and nothing else", () => {
    const problems = check(
      ["segments:", "  - id: big", "    when:", "      any:", "        - { field: companySize, gte: 1000 }", "        - { field: title, contain: vp }", "default: big"].join("\n"),
      SegmentsFile,
    );
    expect(problems).toEqual([
      {
        file: "config/x.yaml",
        line: 6,
        column: 27,
        message: "unknown setting `contain` in segments[0].when.any[1]",
        hint: "did you mean `contains`?",
      },
    ]);
  });

  it("names a missing setting at its parent and a wrong type at the value", () => {
    const problems = check(
      ["id: s", "name: S", "segment: smb", "steps:", "  - id: one", "    delay: P1D", "    subject: Hi", "frequencyCap: { max: lots, per: P7D }"].join("\n"),
      SequenceFile,
    );
    const sorted = [...problems].sort((a, b) => a.line - b.line);
    expect(sorted.map((p) => [p.line, p.column, p.message])).toEqual([
      [5, 5, "`template` is missing in steps[0]"],
      [8, 22, 'frequencyCap.max should be a number, not the text "lots"'],
    ]);
  });
});
