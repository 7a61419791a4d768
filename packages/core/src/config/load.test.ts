import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, loadConfigOrThrow } from "./load";
import { ConfigError, type Problem } from "./problem";

const shippedConfig = fileURLToPath(new URL("../../../../config", import.meta.url));
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the shipped config under <tmp>/config, with `edits` applied (each must apply). */
function brokenCopy(edits: Record<string, Array<[string, string]>>, remove: string[] = []): string {
  const parent = mkdtempSync(join(tmpdir(), "leadloop-config-"));
  temps.push(parent);
  const dir = join(parent, "config");
  cpSync(shippedConfig, dir, { recursive: true });
  for (const [file, replacements] of Object.entries(edits)) {
    let text = readFileSync(join(dir, file), "utf8");
    for (const [from, to] of replacements) {
      if (!text.includes(from)) throw new Error(`test setup: ${file} does not contain ${from}`);
      text = text.replace(from, to);
    }
    writeFileSync(join(dir, file), text);
  }
  for (const file of remove) rmSync(join(dir, file));
  return dir;
}

/** 1-based line and column where `needle` first occurs in the copied file. */
function positionIn(dir: string, file: string, needle: string, nth = 1): { line: number; column: number } {
  const text = readFileSync(join(dir, file), "utf8");
  let offset = text.indexOf(needle);
  for (let n = 1; n < nth && offset >= 0; n++) offset = text.indexOf(needle, offset + 1);
  if (offset < 0) throw new Error(`test setup: ${needle} not in ${file}`);
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

const brief = (p: Problem) => `${p.file}:${p.line}:${p.column} ${p.message}`;

describe("loadConfig on the shipped config", () => {
  it("finds no problems and returns every file's content", () => {
    const { config, problems } = loadConfig(shippedConfig);
    expect(problems.map(brief)).toEqual([]);
    expect(Object.keys(config?.forms ?? {}).sort()).toEqual(["demo-request", "newsletter", "whitepaper"]);
    expect(config?.sequences.map((s) => s.segment).sort()).toEqual(["customer", "enterprise", "recycle", "self-serve", "smb"]);
    expect(config?.templates["rep-handoff"]?.text).toContain("{{ lead_url }}");
    expect(config?.templates["confirm-subscription"]?.html).toContain("{{ confirm_url }}");
    expect(config?.scoring.threshold).toBe(60);
  });

  it("loadConfigOrThrow returns the same config", () => {
    expect(loadConfigOrThrow(shippedConfig).teams.teams.length).toBeGreaterThanOrEqual(2);
  });
});

describe("loadConfig on a broken copy", () => {
  const dir = brokenCopy({
    "sequences/smb.yaml": [
      ["template: smb-quick-start", "template: smb-quickstart"],
      ["delay: P4D", "delay: 3 days"],
    ],
    "sequences/enterprise.yaml": [["- id: security-brief", "- id: case-study"]],
    "sequences/self-serve.yaml": [["  - id: tips", "  - id tips"]],
    "templates/recycle-whats-new.txt.liquid": [["Unsubscribe: {{ unsubscribe_url }}", "Reply STOP to stop."]],
  });
  const { config, problems } = loadConfig(dir);

  it("reports exactly the five mistakes, each at its file and line", () => {
    const at = (file: string, needle: string) => positionIn(dir, file, needle);
    const expected = [
      { file: "config/sequences/enterprise.yaml", ...at("sequences/enterprise.yaml", "case-study\n    delay: P4D") },
      { file: "config/sequences/self-serve.yaml", ...at("sequences/self-serve.yaml", "id tips") },
      { file: "config/sequences/smb.yaml", ...at("sequences/smb.yaml", "smb-quickstart") },
      { file: "config/sequences/smb.yaml", ...at("sequences/smb.yaml", "3 days") },
      { file: "config/templates/recycle-whats-new.txt.liquid", line: 1, column: 1 },
    ];
    expect(problems.map(({ file, line, column }) => ({ file, line, column }))).toEqual(expected);
    expect(config).toBeUndefined();
  });

  it("says what is wrong and what to write instead", () => {
    const [duplicate, syntax, template, delay, unsubscribe] = problems;
    expect(duplicate?.message).toMatch(/step id `case-study` is used twice \(first on line \d+\)/);
    expect(syntax?.message).toMatch(/^YAML syntax error/);
    expect(template?.message).toBe("unknown template `smb-quickstart`");
    expect(template?.hint).toBe("did you mean `smb-quick-start`?");
    expect(delay?.message).toContain("`3 days` is not a duration");
    expect(delay?.hint).toBe("write P3D");
    expect(unsubscribe?.message).toMatch(/unsubscribe link/);
    expect(unsubscribe?.hint).toContain("{{ unsubscribe_url }}");
  });

  it("loadConfigOrThrow throws a ConfigError listing every problem", () => {
    let error: unknown;
    try {
      loadConfigOrThrow(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(5);
    expect((error as ConfigError).message).toContain("config/sequences/smb.yaml:");
  });
});

describe("cross-reference checks", () => {
  const problemsOf = (edits: Record<string, Array<[string, string]>>, remove: string[] = []) =>
    loadConfig(brokenCopy(edits, remove)).problems;

  it("flags unknown segments in a sequence, a team, a form hint, a threshold and the default", () => {
    const problems = problemsOf({
      "teams.yaml": [["segments: [customer]", "segments: [customers]"]],
      "forms.yaml": [["segmentHint: self-serve", "segmentHint: selfserve"]],
      "scoring.yaml": [["  enterprise: 50", "  enterprize: 50"]],
    });
    expect(problems.map((p) => [p.file, p.message, p.hint])).toEqual([
      ["config/forms.yaml", "unknown segment `selfserve`", "did you mean `self-serve`?"],
      ["config/scoring.yaml", "unknown segment `enterprize`", "did you mean `enterprise`?"],
      ["config/teams.yaml", "unknown segment `customers`", "did you mean `customer`?"],
    ]);
  });

  it("flags a segment without a sequence and two sequences for one segment", () => {
    const problems = problemsOf({ "sequences/recycle.yaml": [["segment: recycle", "segment: smb"]] });
    expect(problems.map((p) => `${p.file} ${p.message}`)).toEqual([
      expect.stringMatching(/^config\/segments\.yaml segment `recycle` has no nurture sequence$/),
      expect.stringMatching(/^config\/sequences\/smb\.yaml segment `smb` already has a sequence \(config\/sequences\/recycle\.yaml\)/),
    ]);
  });

  it("flags a scoring rule id used twice, at the second one's line: rules sharing an id would share one cap", () => {
    const dir = brokenCopy({ "scoring.yaml": [["id: email-clicked", "id: email-opened"]] });
    const problems = loadConfig(dir).problems;
    expect(problems.map((p) => [p.file, p.line, p.message])).toEqual([
      [
        "config/scoring.yaml",
        positionIn(dir, "scoring.yaml", "id: email-opened", 2).line,
        `scoring rule id \`email-opened\` is used twice (first on line ${positionIn(dir, "scoring.yaml", "id: email-opened").line})`,
      ],
    ]);
  });

  it("flags a duplicate sequence id", () => {
    const problems = problemsOf({ "sequences/smb.yaml": [["id: smb-nurture", "id: enterprise-nurture"]] });
    expect(problems.map((p) => p.message)).toEqual([
      "sequence id `enterprise-nurture` is also used by config/sequences/enterprise.yaml",
    ]);
  });

  it("flags merge fields no form collects, in templates and subjects, at their line", () => {
    const dir = brokenCopy({
      "templates/smb-welcome.txt.liquid": [["{{ lead.company", "{{ lead.compnay"]],
      "sequences/smb.yaml": [['{{ lead.firstName | default: \\"there\\" }}', "{{ lead.nickname }}"]],
    });
    const problems = loadConfig(dir).problems;
    expect(problems.map((p) => [p.file, p.line, p.message, p.hint])).toEqual([
      [
        "config/sequences/smb.yaml",
        positionIn(dir, "sequences/smb.yaml", "Welcome to").line,
        "the subject uses `lead.nickname`, which no form collects",
        expect.stringMatching(/^fields you can use: /),
      ],
      [
        "config/templates/smb-welcome.txt.liquid",
        positionIn(dir, "templates/smb-welcome.txt.liquid", "lead.compnay").line,
        "`lead.compnay` is not a field any form collects, so it would always be empty",
        "did you mean `company`?",
      ],
    ]);
  });

  it("flags a missing template part and a Liquid syntax error at its line", () => {
    const dir = brokenCopy(
      { "templates/rep-handoff.txt.liquid": [["{% endif %}", "{% endiff %}"]] },
      ["templates/smb-pricing.txt.liquid"],
    );
    const problems = loadConfig(dir).problems;
    expect(problems.map((p) => [p.file, p.line, p.message])).toEqual([
      [
        "config/templates/rep-handoff.txt.liquid",
        positionIn(dir, "templates/rep-handoff.txt.liquid", "{% endiff %}").line,
        "Liquid syntax error: unknown tag `endiff`",
      ],
      ["config/templates/smb-pricing.html.liquid", 1, "template `smb-pricing` has no plain-text part"],
    ]);
  });

  it("suggests the right setting for a misspelt key and the right value for a misspelt option", () => {
    const dir = brokenCopy({
      "teams.yaml": [["maxMisses: 3", "maxMises: 3"]],
      "scoring.yaml": [["on: email.clicked", "on: email.click"]],
    });
    const problems = loadConfig(dir).problems;
    expect(problems.map((p) => [p.file, p.line, p.column, p.hint])).toEqual([
      ["config/scoring.yaml", ...Object.values(positionIn(dir, "scoring.yaml", "email.click\n")), "did you mean `email.clicked`?"],
      ["config/teams.yaml", ...Object.values(positionIn(dir, "teams.yaml", "maxMises")), "did you mean `maxMisses`?"],
    ]);
  });

  it("reports a missing file and a missing config folder", () => {
    expect(problemsOf({}, ["teams.yaml"]).map((p) => `${p.file} ${p.message}`)).toEqual(["config/teams.yaml file is missing"]);
    expect(loadConfig(join(tmpdir(), "no-such-leadloop-config")).problems).toHaveLength(1);
  });
});

describe("every problem of every file in one run", () => {
  it("still reports a file's schema mistakes and its templates' missing unsubscribe link beside a YAML syntax error", () => {
    const dir = brokenCopy({
      "sequences/customer.yaml": [
        ["segment: customer\n", "segment: customer\nfrequencyCap: { max: 3, per: P7D\n"],
        ["delay: P14D", "delay: 14 days"],
      ],
      "templates/customer-onboarding.html.liquid": [["unsubscribe_url", "nothing_url"]],
    });
    const messages = loadConfig(dir).problems.map((p) => `${p.file} ${p.message}`);
    expect(messages.some((m) => m.startsWith("config/sequences/customer.yaml YAML syntax error"))).toBe(true);
    expect(messages).toContain("config/sequences/customer.yaml steps[1].delay `14 days` is not a duration leadloop understands");
    expect(messages).toContain("config/templates/customer-onboarding.html.liquid a marketing email must contain an unsubscribe link, and this part has none");
  });

  it("reports a missing unsubscribe link in a part that also has a Liquid syntax error", () => {
    const dir = brokenCopy({
      "templates/customer-onboarding.html.liquid": [
        ["unsubscribe_url", "nothing_url"],
        ["{{", "{% endiff %}{{"],
      ],
    });
    const messages = loadConfig(dir).problems.map((p) => `${p.file} ${p.message}`);
    expect(messages).toContain("config/templates/customer-onboarding.html.liquid Liquid syntax error: unknown tag `endiff`");
    expect(messages).toContain("config/templates/customer-onboarding.html.liquid a marketing email must contain an unsubscribe link, and this part has none");
  });
});

describe("loadConfig on an A/B tested step", () => {
  const variants = (lines: string) => [
    [
      '    subject: "Welcome to Acme Analytics, {{ lead.firstName | default: \\"there\\" }}"\n',
      `    subject: "Welcome to Acme Analytics, {{ lead.firstName | default: \\"there\\" }}"\n${lines}`,
    ] as [string, string],
  ];

  it("accepts variants with weights and a winner rule", () => {
    const dir = brokenCopy({
      "sequences/smb.yaml": variants("    variants:\n      - { id: a }\n      - { id: b, weight: 2, subject: Shorter, template: smb-quick-start }\n    winner: { metric: clicks, minSends: 200 }\n"),
    });
    const { config, problems } = loadConfig(dir);
    expect(problems).toEqual([]);
    const welcome = config?.sequences.find((s) => s.id === "smb-nurture")?.steps[0];
    expect(welcome?.variants).toEqual([
      { id: "a", weight: 1 },
      { id: "b", weight: 2, subject: "Shorter", template: "smb-quick-start" },
    ]);
    expect(welcome?.winner).toEqual({ metric: "clicks", minSends: 200, confidence: 0.95 });
  });

  it("names a duplicate variant id, a zero weight, an unknown template and a template without an unsubscribe link, each at its line", () => {
    const dir = brokenCopy({
      "sequences/smb.yaml": variants("    variants:\n      - { id: a, weight: 0 }\n      - { id: a, template: smb-welcom }\n      - { id: c, template: rep-handoff }\n    winner: { metric: replies, minSends: 200 }\n"),
    });
    const { problems } = loadConfig(dir);
    const messages = problems.map((p) => `${p.line}: ${p.message}${p.hint ? ` (${p.hint})` : ""}`);
    const line = (needle: string) => positionIn(dir, "sequences/smb.yaml", needle).line;
    expect(messages).toContain(`${line("weight: 0")}: steps[0].variants[0].weight must be more than 0`);
    expect(messages).toContain(`${line("{ id: a, template")}: variant id \`a\` is used twice (first on line ${line("weight: 0")}) (rename one: each variant id must be unique)`);
    expect(messages.some((m) => m.startsWith(`${line("replies")}:`))).toBe(true);
    expect(problems.some((p) => p.message === "unknown template `smb-welcom`" && p.hint === "did you mean `smb-welcome`?")).toBe(true);
    expect(problems.some((p) => p.file.endsWith("rep-handoff.html.liquid") && /unsubscribe link/.test(p.message))).toBe(true);
  });
});
