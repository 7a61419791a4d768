/**
 * Liquid rendering of email templates. The HTML part escapes every merge field, so a lead who
 * types `<script>` into a form field cannot inject markup into an email; the text part and the
 * subject are not HTML, so they are not escaped, but the subject loses CR/LF so a merge field can
 * never add a mail header.
 *
 * Only marketer-owned text (config/templates, subjects from config or code) is ever parsed as
 * Liquid. Whatever a lead typed reaches a template as a variable: pasted into a template source,
 * `{{ 6 | times: 7 }}` in a name would be evaluated and `{% if %}` would break every render.
 */
import { Liquid, type LiquidOptions, type Template as LiquidTemplate } from "liquidjs";
import type { Template } from "./config/schema";

/**
 * Bounds on one parse and one render, so a template (or a variable fed to a loop) can never hold
 * a sender for long: the real templates parse in well under 1e5 characters and render in a few
 * milliseconds with a few kilobytes of new strings. The render limit is wall time on a shared
 * machine, hence the margin.
 */
export const LIQUID_LIMITS = { parseLimit: 1_000_000, renderLimit: 2_000, memoryLimit: 20_000_000 } as const satisfies LiquidOptions;

// strictFilters: a misspelt filter is a parse error config:check reports, not silently empty output.
const htmlEngine = new Liquid({ outputEscape: "escape", strictFilters: true, cache: false, ...LIQUID_LIMITS });
const textEngine = new Liquid({ strictFilters: true, cache: false, ...LIQUID_LIMITS });

/**
 * Slack's mrkdwn gives `&`, `<` and `>` meaning (links, mentions such as `<!channel>`), so a value
 * a lead typed is escaped before it goes into a chat message; the message's own links are not.
 */
export function escapeChatText(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** A merge field's use in a template source, 1-based position. */
export interface TemplateFieldUse {
  field: string;
  line: number;
  column: number;
}

// Parsed templates keyed by engine and source: a sweeper renders the same few templates for every
// lead, and parsing dominates rendering. The set of sources is the finite set in config/ (and the
// fixed subjects in code); a source built from lead data would grow this map without end.
const parsed = new Map<string, LiquidTemplate[]>();

function parseCached(engine: Liquid, kind: "html" | "text", source: string): LiquidTemplate[] {
  const key = `${kind}\u0000${source}`;
  let templates = parsed.get(key);
  if (templates === undefined) {
    templates = engine.parse(source);
    parsed.set(key, templates);
  }
  return templates;
}

/** Parses a template source, throwing liquidjs's error (with line and column) when it is invalid. */
export function parseTemplateSource(source: string): void {
  parseCached(textEngine, "text", source);
}

export function renderTemplate(template: Template, subject: string, vars: Record<string, unknown>): RenderedEmail {
  const html = htmlEngine.renderSync(parseCached(htmlEngine, "html", template.html), vars) as string;
  const text = textEngine.renderSync(parseCached(textEngine, "text", template.text), vars) as string;
  const renderedSubject = textEngine.renderSync(parseCached(textEngine, "text", subject), vars) as string;
  return {
    subject: renderedSubject.replace(/[\r\n]+/g, " ").trim(),
    html,
    text,
  };
}

/** Every `lead.<field>` merge field a template source uses, with its position, in source order. */
export function templateFieldUses(source: string): TemplateFieldUse[] {
  const analysis = textEngine.analyzeSync(parseCached(textEngine, "text", source));
  const uses: TemplateFieldUse[] = [];
  for (const variable of analysis.globals.lead ?? []) {
    const field = variable.segments[1];
    if (typeof field === "string") {
      uses.push({ field, line: variable.location.row, column: variable.location.col });
    }
  }
  return uses.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** The distinct `lead.<field>` merge fields a template source uses, sorted. Throws on invalid Liquid. */
export function templateFields(source: string): string[] {
  return [...new Set(templateFieldUses(source).map((u) => u.field))].sort();
}
