/**
 * Loads `config/` and reports every problem in it at once, each at its file, line and column.
 * A config is only handed out when it has no problems at all, so nothing downstream re-checks it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { z } from "zod";
import { crossReferenceProblems, type LoadedFiles, type ParsedFile, type TemplateFiles } from "./cross-references";
import { compareProblems, ConfigError, type Problem } from "./problem";
import {
  BroadcastFile,
  FormsFile,
  type LeadloopConfig,
  RewardsFile,
  ScoringFile,
  SegmentsFile,
  SequenceFile,
  TeamsFile,
  type Template,
  WebhooksFile,
} from "./schema";
import { parseYamlSource } from "./yaml-source";
import { zodProblems } from "./zod-problems";

export interface LoadResult {
  /** present only when `problems` is empty */
  config: LeadloopConfig | undefined;
  problems: Problem[];
}

/** zodProblems' wording for a required setting that is absent. */
const MISSING = /^`[^`]+` is missing/;

const TEMPLATE_FILE = /^(?<name>.+)\.(?<kind>html|txt)\.liquid$/;

export function loadConfig(dir: string): LoadResult {
  const root = resolve(dir);
  // Paths are shown relative to the config folder's parent: `config/forms.yaml`.
  const shown = (relative: string) => [basename(root), relative].join("/");
  const problems: Problem[] = [];

  if (!existsSync(root) || !statSync(root).isDirectory()) {
    return {
      config: undefined,
      problems: [{ file: shown(""), line: 1, column: 1, message: `config folder ${root} does not exist`, hint: "pass --dir <folder>" }],
    };
  }

  const loadYaml = <S extends z.ZodType>(relative: string, schema: S): ParsedFile<z.infer<S>> | undefined => {
    const path = join(root, relative);
    if (!existsSync(path)) {
      problems.push({ file: shown(relative), line: 1, column: 1, message: "file is missing", hint: `create ${shown(relative)}` });
      return undefined;
    }
    const source = parseYamlSource(shown(relative), readFileSync(path, "utf8"));
    const broken = source.syntaxProblems.length > 0;
    problems.push(...source.syntaxProblems);
    const result = schema.safeParse(source.data);
    if (!result.success) {
      // Around a syntax error the parser recovers what it can: a key it dropped ("is missing") or
      // the broken line read another way would be the same mistake told twice.
      const brokenLines = new Set(source.syntaxProblems.map((p) => p.line));
      const found = zodProblems(source, schema, result.error.issues);
      problems.push(...(broken ? found.filter((p) => !MISSING.test(p.message) && !brokenLines.has(p.line)) : found));
    }
    return { source, value: broken || !result.success ? undefined : result.data };
  };

  const forms = loadYaml("forms.yaml", FormsFile);
  const segments = loadYaml("segments.yaml", SegmentsFile);
  const scoring = loadYaml("scoring.yaml", ScoringFile);
  const teams = loadYaml("teams.yaml", TeamsFile);
  // Optional: a deployment without reward points has no rewards.yaml.
  const rewards = existsSync(join(root, "rewards.yaml")) ? loadYaml("rewards.yaml", RewardsFile) : undefined;
  // Optional too: without webhooks.yaml nothing is posted anywhere.
  const webhooks = existsSync(join(root, "webhooks.yaml")) ? loadYaml("webhooks.yaml", WebhooksFile) : undefined;
  const sequences = listFiles(join(root, "sequences"))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => loadYaml(`sequences/${f}`, SequenceFile))
    .filter((s): s is ParsedFile<SequenceFile> => s !== undefined);

  const broadcasts = listFiles(join(root, "broadcasts"))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => loadYaml(`broadcasts/${f}`, BroadcastFile))
    .filter((b): b is ParsedFile<BroadcastFile> => b !== undefined);

  const templates = new Map<string, TemplateFiles>();
  const templateNames = listFiles(join(root, "templates"));
  for (const fileName of templateNames) {
    const match = TEMPLATE_FILE.exec(fileName);
    if (!match?.groups) {
      if (!fileName.startsWith(".") && fileName.toLowerCase() !== "readme.md") {
        const likely = fileName.replace(/\.(html?|txt|text|liquid)$/i, "").replace(/\.(html?|txt|text)$/i, "");
        problems.push({
          file: shown(`templates/${fileName}`),
          line: 1,
          column: 1,
          message: "not a template file name, so it is ignored",
          hint: `name the two parts ${likely}.html.liquid and ${likely}.txt.liquid`,
        });
      }
      continue;
    }
    const { name = "", kind } = match.groups;
    const part = { file: shown(`templates/${fileName}`), text: readFileSync(join(root, "templates", fileName), "utf8") };
    const entry = templates.get(name) ?? { name };
    if (kind === "html") entry.html = part;
    else entry.text = part;
    templates.set(name, entry);
  }

  const files: LoadedFiles = { forms, segments, scoring, teams, rewards, sequences, broadcasts, templates, templatesDir: shown("templates") };
  problems.push(...crossReferenceProblems(files));
  problems.sort(compareProblems);

  if (problems.length > 0 || !forms?.value || !segments?.value || !scoring?.value || !teams?.value || (rewards && !rewards.value) || (webhooks && !webhooks.value)) {
    return { config: undefined, problems };
  }
  const withoutSchema = <T extends { $schema?: string }>({ $schema: _, ...rest }: T): Omit<T, "$schema"> => rest;
  const loadedTemplates: Record<string, Template> = {};
  for (const t of templates.values()) {
    loadedTemplates[t.name] = { name: t.name, html: t.html?.text ?? "", text: t.text?.text ?? "" };
  }
  return {
    config: {
      forms: forms.value.forms,
      segments: withoutSchema(segments.value),
      scoring: withoutSchema(scoring.value),
      sequences: sequences.flatMap((s) => (s.value ? [withoutSchema(s.value)] : [])),
      teams: withoutSchema(teams.value),
      broadcasts: broadcasts.flatMap((b) => (b.value ? [withoutSchema(b.value)] : [])),
      templates: loadedTemplates,
      ...(rewards?.value ? { rewards: withoutSchema(rewards.value) } : {}),
      ...(webhooks?.value ? { webhooks: withoutSchema(webhooks.value) } : {}),
    },
    problems,
  };
}

/** Loads the config or throws a ConfigError listing every problem. */
export function loadConfigOrThrow(dir: string): LeadloopConfig {
  const { config, problems } = loadConfig(dir);
  if (config === undefined || problems.length > 0) throw new ConfigError(problems);
  return config;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
}

