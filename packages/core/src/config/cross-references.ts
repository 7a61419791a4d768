/**
 * Checks that span files: every name one file uses (a template, a segment, a form, a lead field)
 * exists in the file that defines it. Each check runs only when the files it reads passed schema
 * validation, so one mistake is reported once, not again as a cascade of follow-on errors.
 */
import { BROADCAST_SEQUENCE_ID } from "../broadcasts/broadcast-sequence-id";
import { templateFieldUses, parseTemplateSource } from "../templating";
import { suggest } from "./did-you-mean";
import type { Problem } from "./problem";
import type { BroadcastFile, FormsFile, RewardsFile, ScoringFile, SegmentsFile, SequenceFile, TeamsFile } from "./schema";
import type { PathSegment, YamlSource } from "./yaml-source";

export interface ParsedFile<T> {
  source: YamlSource;
  /** undefined when the file had syntax or schema problems */
  value: T | undefined;
}

export interface TemplatePart {
  /** display path, e.g. config/templates/smb-welcome.html.liquid */
  file: string;
  text: string;
}

export interface TemplateFiles {
  name: string;
  html?: TemplatePart;
  text?: TemplatePart;
}

export interface LoadedFiles {
  forms?: ParsedFile<FormsFile>;
  segments?: ParsedFile<SegmentsFile>;
  scoring?: ParsedFile<ScoringFile>;
  teams?: ParsedFile<TeamsFile>;
  /** Absent when there is no rewards.yaml (reward points are optional). */
  rewards?: ParsedFile<RewardsFile>;
  sequences: ParsedFile<SequenceFile>[];
  /** config/broadcasts/*.yaml; none when the folder is absent. */
  broadcasts?: ParsedFile<BroadcastFile>[];
  templates: Map<string, TemplateFiles>;
  /** display path of the templates folder, e.g. config/templates */
  templatesDir: string;
}

/** Lead attributes every lead has, whatever form it came from. */
export const BUILT_IN_LEAD_FIELDS = ["id", "email", "segment", "score", "stage"] as const;

/** Transactional templates the runtime sends; they carry no unsubscribe link. */
export const CONFIRM_TEMPLATE = "confirm-subscription";
export const HANDOFF_TEMPLATE = "rep-handoff";


export function crossReferenceProblems(files: LoadedFiles): Problem[] {
  const problems: Problem[] = [];
  const at = (source: YamlSource, path: PathSegment[], message: string, hint?: string, target?: "key"): void => {
    problems.push({ file: source.file, ...source.positionOf(path, target), message, ...(hint ? { hint } : {}) });
  };

  // Raw data, read defensively: a file with a schema mistake elsewhere still has its names checked,
  // so a marketer sees every problem in one run. A file with a YAML syntax error holds what the
  // parser recovered around it.
  const formsData = obj(files.forms?.source.data);
  const formsMap = obj(formsData?.forms);
  const leadFields = formsMap
    ? [
        ...new Set([
          ...BUILT_IN_LEAD_FIELDS,
          ...Object.values(formsMap).flatMap((f) => Object.keys(obj(obj(f)?.fields) ?? {})),
        ]),
      ]
    : undefined;
  const segmentsData = obj(files.segments?.source.data);
  const segmentList = arr(segmentsData?.segments);
  const defaultSegment = str(segmentsData?.default);
  const segmentIds = segmentsData
    ? [...new Set([...segmentList.map((s) => str(obj(s)?.id)), defaultSegment].filter(isString))]
    : undefined;
  const formIds = formsMap ? Object.keys(formsMap) : undefined;
  const templateNames = [...files.templates.keys()].sort();

  const checkSegment = (source: YamlSource, path: PathSegment[], id: unknown, target?: "key") => {
    if (typeof id === "string" && segmentIds && !segmentIds.includes(id)) {
      at(source, path, `unknown segment \`${id}\``, suggest(id, segmentIds, "segments defined in segments.yaml"), target);
    }
  };
  const checkCondition = (source: YamlSource, path: PathSegment[], condition: unknown) => {
    const c = obj(condition);
    if (!leadFields || !c) return;
    for (const key of ["all", "any"] as const) {
      arr(c[key]).forEach((inner, i) => {
        checkCondition(source, [...path, key, i], inner);
      });
    }
    if (c.not !== undefined) checkCondition(source, [...path, "not"], c.not);
    const field = str(c.field);
    if (field !== undefined && !leadFields.includes(field)) {
      at(
        source,
        [...path, "field"],
        `no form collects a field called \`${field}\``,
        suggest(field, leadFields, "fields you can test"),
      );
    }
  };
  const checkSubject = (source: YamlSource, path: PathSegment[], value: unknown) => {
    const subject = str(value);
    if (subject === undefined) return;
    try {
      parseTemplateSource(subject);
      for (const use of leadFields ? templateFieldUses(subject) : []) {
        if (!leadFields?.includes(use.field)) {
          at(source, path, `the subject uses \`lead.${use.field}\`, which no form collects`, suggest(use.field, leadFields ?? [], "fields you can use"));
        }
      }
    } catch (error) {
      at(source, path, `the subject is not valid Liquid: ${liquidMessage(error)}`, LIQUID_HINT);
    }
  };
  const checkDuplicates = (source: YamlSource, ids: unknown[], path: (i: number) => PathSegment[], what: string) => {
    const first = new Map<string, number>();
    ids.forEach((id, i) => {
      if (typeof id !== "string") return;
      const earlier = first.get(id);
      if (earlier === undefined) {
        first.set(id, i);
        return;
      }
      const line = source.positionOf(path(earlier)).line;
      at(source, path(i), `${what} \`${id}\` is used twice (first on line ${line})`, `rename one: each ${what} must be unique`);
    });
  };

  const marketingTemplates = new Set<string>();

  // forms.yaml
  if (files.forms && formsMap) {
    const source = files.forms.source;
    for (const [id, formData] of Object.entries(formsMap)) {
      const form = obj(formData);
      const honeypot = str(form?.honeypot);
      if (honeypot !== undefined && honeypot in (obj(form?.fields) ?? {})) {
        at(
          source,
          ["forms", id, "honeypot"],
          `honeypot \`${honeypot}\` is also a real field of this form, so genuine submissions would be dropped`,
          "use a name no real field has, e.g. website",
        );
      }
      checkSegment(source, ["forms", id, "segmentHint"], form?.segmentHint);
      const followUp = obj(form?.followUp);
      const followUpTemplate = str(followUp?.template);
      if (followUpTemplate !== undefined) {
        // A follow-up is a marketing email: it needs an unsubscribe link like any nurture step.
        marketingTemplates.add(followUpTemplate);
        if (!files.templates.has(followUpTemplate)) {
          at(
            source,
            ["forms", id, "followUp", "template"],
            `unknown template \`${followUpTemplate}\``,
            suggest(followUpTemplate, templateNames, `templates in ${files.templatesDir}`) ??
              `create ${files.templatesDir}/${followUpTemplate}.html.liquid and ${followUpTemplate}.txt.liquid`,
          );
        }
      }
      checkSubject(source, ["forms", id, "followUp", "subject"], followUp?.subject);
      if (form?.doubleOptIn === true && !files.templates.has(CONFIRM_TEMPLATE)) {
        at(
          source,
          ["forms", id, "doubleOptIn"],
          `double opt-in needs the confirmation email template \`${CONFIRM_TEMPLATE}\``,
          `create ${files.templatesDir}/${CONFIRM_TEMPLATE}.html.liquid and .txt.liquid with a {{ confirm_url }} link`,
        );
      }
    }
  }

  // segments.yaml
  if (files.segments && segmentsData) {
    const source = files.segments.source;
    checkDuplicates(source, segmentList.map((s) => obj(s)?.id), (i) => ["segments", i, "id"], "segment id");
    segmentList.forEach((s, i) => {
      checkCondition(source, ["segments", i, "when"], obj(s)?.when);
    });
  }

  // scoring.yaml
  const scoring = obj(files.scoring?.source.data);
  if (files.scoring && scoring) {
    const source = files.scoring.source;
    for (const id of Object.keys(obj(scoring.segmentThresholds) ?? {})) {
      checkSegment(source, ["segmentThresholds", id], id, "key");
    }
    const fit = arr(scoring.fit);
    const behaviour = arr(scoring.behaviour);
    fit.forEach((rule, i) => {
      checkCondition(source, ["fit", i, "when"], obj(rule)?.when);
    });
    behaviour.forEach((ruleData, i) => {
      const rule = obj(ruleData);
      const form = str(rule?.form);
      const on = str(rule?.on);
      if (form !== undefined && formIds && !formIds.includes(form)) {
        at(source, ["behaviour", i, "form"], `unknown form \`${form}\``, suggest(form, formIds, "forms in forms.yaml"));
      }
      if (form !== undefined && on !== undefined && on !== "form.submitted") {
        at(source, ["behaviour", i, "form"], "`form` only applies to `on: form.submitted`", "remove `form` or change `on`");
      }
      if (rule?.url !== undefined && on !== undefined && !on.startsWith("web.")) {
        at(source, ["behaviour", i, "url"], "`url` only applies to web activities", "remove `url` or use `on: web.page_view`");
      }
    });
    const ruleIds = [...fit, ...behaviour].map((r) => obj(r)?.id);
    const rulePath = (i: number): PathSegment[] => (i < fit.length ? ["fit", i, "id"] : ["behaviour", i - fit.length, "id"]);
    checkDuplicates(source, ruleIds, rulePath, "scoring rule id");
  }

  // sequences/*.yaml
  const sequenceById = new Map<string, string>();
  const sequenceBySegment = new Map<string, string>();
  for (const { source } of files.sequences) {
    const sequence = obj(source.data);
    if (!sequence) continue;
    const id = str(sequence.id);
    const segment = str(sequence.segment);
    const otherById = id === undefined ? undefined : sequenceById.get(id);
    if (otherById !== undefined) {
      at(source, ["id"], `sequence id \`${id}\` is also used by ${otherById}`, "give each sequence its own id");
    } else if (id !== undefined) sequenceById.set(id, source.file);
    checkSegment(source, ["segment"], segment);
    const otherBySegment = segment === undefined ? undefined : sequenceBySegment.get(segment);
    if (otherBySegment !== undefined) {
      at(
        source,
        ["segment"],
        `segment \`${segment}\` already has a sequence (${otherBySegment}); a segment has exactly one`,
        "merge the two sequences, or point this one at another segment",
      );
    } else if (segment !== undefined) sequenceBySegment.set(segment, source.file);

    const steps = arr(sequence.steps).map(obj);
    checkDuplicates(source, steps.map((s) => s?.id), (i) => ["steps", i, "id"], "step id");
    steps.forEach((step, i) => {
      const template = str(step?.template);
      if (template !== undefined) {
        marketingTemplates.add(template);
        if (!files.templates.has(template)) {
          at(
            source,
            ["steps", i, "template"],
            `unknown template \`${template}\``,
            suggest(template, templateNames, `templates in ${files.templatesDir}`) ??
              `create ${files.templatesDir}/${template}.html.liquid and ${template}.txt.liquid`,
          );
        }
      }
      checkSubject(source, ["steps", i, "subject"], step?.subject);
      checkCondition(source, ["steps", i, "condition", "when"], obj(step?.condition)?.when);
      // An A/B variant is a marketing email like its step: its template exists and can unsubscribe.
      const stepVariants = arr(step?.variants).map(obj);
      checkDuplicates(source, stepVariants.map((v) => v?.id), (j) => ["steps", i, "variants", j, "id"], "variant id");
      stepVariants.forEach((variant, j) => {
        const variantTemplate = str(variant?.template);
        if (variantTemplate !== undefined) {
          marketingTemplates.add(variantTemplate);
          if (!files.templates.has(variantTemplate)) {
            at(
              source,
              ["steps", i, "variants", j, "template"],
              `unknown template \`${variantTemplate}\``,
              suggest(variantTemplate, templateNames, `templates in ${files.templatesDir}`) ??
                `create ${files.templatesDir}/${variantTemplate}.html.liquid and ${variantTemplate}.txt.liquid`,
            );
          }
        }
        checkSubject(source, ["steps", i, "variants", j, "subject"], variant?.subject);
      });
    });
  }

  // A broadcast's messages are reported under this sequence id, so no sequence may take it.
  for (const { source } of files.sequences) {
    if (str(obj(source.data)?.id) === BROADCAST_SEQUENCE_ID) {
      at(source, ["id"], `\`${BROADCAST_SEQUENCE_ID}\` is reserved for broadcasts' figures in the report`, "give the sequence another id");
    }
  }

  // broadcasts/*.yaml: a broadcast is a marketing email like any nurture step.
  const broadcastIds = new Map<string, string>();
  for (const { source } of files.broadcasts ?? []) {
    const broadcast = obj(source.data);
    if (!broadcast) continue;
    const id = str(broadcast.id);
    const other = id === undefined ? undefined : broadcastIds.get(id);
    if (other !== undefined) at(source, ["id"], `broadcast id \`${id}\` is also used by ${other}`, "give each broadcast its own id");
    else if (id !== undefined) broadcastIds.set(id, source.file);
    const template = str(broadcast.template);
    if (template !== undefined) {
      marketingTemplates.add(template);
      if (!files.templates.has(template)) {
        at(
          source,
          ["template"],
          `unknown template \`${template}\``,
          suggest(template, templateNames, `templates in ${files.templatesDir}`) ??
            `create ${files.templatesDir}/${template}.html.liquid and ${template}.txt.liquid`,
        );
      }
    }
    checkSubject(source, ["subject"], broadcast.subject);
    const audience = obj(broadcast.audience);
    arr(audience?.segments).forEach((segment, i) => {
      checkSegment(source, ["audience", "segments", i], segment);
    });
    checkCondition(source, ["audience", "when"], audience?.when);
    arr(audience?.consentForms).forEach((form, i) => {
      const formId = str(form);
      if (formId !== undefined && formIds && !formIds.includes(formId)) {
        at(source, ["audience", "consentForms", i], `unknown form \`${formId}\``, suggest(formId, formIds, "forms in forms.yaml"));
      }
    });
  }

  // Every segment needs a nurture sequence. Skipped while a sequence file cannot be read at all,
  // since it may well be the one covering the segment.
  if (files.segments && segmentsData && files.sequences.every((s) => s.source.data !== undefined)) {
    const covered = new Set(files.sequences.map((s) => str(obj(s.source.data)?.segment)));
    const source = files.segments.source;
    const seen = new Set<string>();
    const report = (id: string | undefined, path: PathSegment[]) => {
      if (id === undefined || covered.has(id) || seen.has(id)) return;
      seen.add(id);
      at(source, path, `segment \`${id}\` has no nurture sequence`, `add sequences/${id}.yaml with \`segment: ${id}\``);
    };
    segmentList.forEach((s, i) => {
      report(str(obj(s)?.id), ["segments", i, "id"]);
    });
    report(defaultSegment, ["default"]);
  }

  // teams.yaml
  const teams = obj(files.teams?.source.data);
  if (files.teams && teams) {
    const source = files.teams.source;
    const teamList = arr(teams.teams).map(obj);
    checkDuplicates(source, teamList.map((t) => t?.id), (i) => ["teams", i, "id"], "team id");
    teamList.forEach((team, i) => {
      arr(team?.segments).forEach((segment, j) => {
        checkSegment(source, ["teams", i, "segments", j], segment);
      });
      const emails = arr(team?.reps).map((r) => str(obj(r)?.email)?.toLowerCase());
      checkDuplicates(source, emails, (j) => ["teams", i, "reps", j, "email"], "rep email");
    });
    for (const list of ["wonReasons", "lostReasons", "disqualifiedReasons", "qualityReasons"] as const) {
      const codes = arr(teams[list]).map((r) => obj(r)?.code);
      checkDuplicates(source, codes, (i) => [list, i, "code"], "reason code");
    }
    if (!files.templates.has(HANDOFF_TEMPLATE)) {
      at(
        source,
        ["teams"],
        `reps are notified with the template \`${HANDOFF_TEMPLATE}\`, which does not exist`,
        `create ${files.templatesDir}/${HANDOFF_TEMPLATE}.html.liquid and .txt.liquid with a {{ lead_url }} link`,
        "key",
      );
    }
  }

  // rewards.yaml: the tier-change email is a marketing email, so it needs its template and an
  // unsubscribe link like any nurture step.
  const rewards = obj(files.rewards?.source.data);
  if (files.rewards && rewards) {
    const template = str(rewards.tierChangeTemplate);
    if (template !== undefined) {
      marketingTemplates.add(template);
      if (!files.templates.has(template)) {
        at(
          files.rewards.source,
          ["tierChangeTemplate"],
          `unknown template \`${template}\``,
          suggest(template, templateNames, `templates in ${files.templatesDir}`) ??
            `create ${files.templatesDir}/${template}.html.liquid and ${template}.txt.liquid`,
        );
      }
    }
  }

  // templates/
  for (const template of files.templates.values()) {
    const parts = [template.html, template.text].filter((p): p is TemplatePart => p !== undefined);
    for (const [kind, part, ext] of [
      ["HTML", template.html, "html"],
      ["plain-text", template.text, "txt"],
    ] as const) {
      if (part === undefined && parts[0]) {
        problems.push({
          file: parts[0].file,
          line: 1,
          column: 1,
          message: `template \`${template.name}\` has no ${kind} part`,
          hint: `create ${files.templatesDir}/${template.name}.${ext}.liquid; every email has both parts`,
        });
      }
    }
    for (const part of parts) {
      // Checked before parsing: a Liquid syntax error elsewhere in the part must not hide it.
      if (marketingTemplates.has(template.name) && !UNSUBSCRIBE_LINK.test(part.text)) {
        problems.push({
          file: part.file,
          line: 1,
          column: 1,
          message: "a marketing email must contain an unsubscribe link, and this part has none",
          hint:
            part === template.html
              ? 'add <a href="{{ unsubscribe_url }}">Unsubscribe</a> to the footer'
              : "add a line `Unsubscribe: {{ unsubscribe_url }}` to the footer",
        });
      }
      try {
        parseTemplateSource(part.text);
      } catch (error) {
        const { line, column } = liquidPosition(error);
        problems.push({ file: part.file, line, column, message: `Liquid syntax error: ${liquidMessage(error)}`, hint: LIQUID_HINT });
        continue;
      }
      for (const use of leadFields ? templateFieldUses(part.text) : []) {
        if (leadFields?.includes(use.field)) continue;
        const hint = suggest(use.field, leadFields ?? [], "fields you can use");
        problems.push({
          file: part.file,
          line: use.line,
          column: use.column,
          message: `\`lead.${use.field}\` is not a field any form collects, so it would always be empty`,
          ...(hint ? { hint } : {}),
        });
      }
    }
  }
  return problems;
}

function obj(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

const UNSUBSCRIBE_LINK = /\{\{-?\s*unsubscribe_url\s*(\|[^}]*)?-?\}\}/;
const LIQUID_HINT = "merge fields look like {{ lead.firstName | default: \"there\" }}; every {% if %} needs its {% endif %}";

function liquidMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/, line:\d+, col:\d+$/, "")
    .replace(/^undefined filter: (.*)$/, "unknown filter `$1`")
    .replace(/^tag "(.*)" not found$/, "unknown tag `$1`");
}

function liquidPosition(error: unknown): { line: number; column: number } {
  const token = (error as { token?: { getPosition?: () => [number, number] } }).token;
  const position = token?.getPosition?.();
  if (position) return { line: position[0], column: position[1] };
  const match = /line:(\d+), col:(\d+)/.exec(error instanceof Error ? error.message : "");
  return match ? { line: Number(match[1]), column: Number(match[2]) } : { line: 1, column: 1 };
}
