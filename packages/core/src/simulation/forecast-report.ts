/**
 * Forecasts as a marketer reads them in a terminal: aligned tables, and for two configs the
 * figures side by side with the change ("MQLs: 112 → 87 (−22%)"). Plain text, no colours, so the
 * output reads the same in a pipe, a CI log or an email.
 */
import type { Forecast } from "./forecast";

type Align = "left" | "right";

/** Columns padded to their widest cell; numbers (right-aligned columns) line up on the right. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (align[i] === "right" ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "─".repeat(w))), ...rows.map(line)].join("\n");
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function formatDecimal(n: number): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

export function formatUsd(n: number): string {
  if (n === 0) return "$0.00";
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: n < 1 ? 4 : 2, maximumFractionDigits: n < 1 ? 4 : 2 })}`;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : "–";
}

/** `(−22%)`, `(+8%)`, `(no change)` or `(new)` when the first figure was zero. */
export function formatChange(before: number, after: number): string {
  if (before === after) return "(no change)";
  if (before === 0) return "(new)";
  const change = ((after - before) / Math.abs(before)) * 100;
  const rounded = Math.abs(change) < 10 ? Math.round(change * 10) / 10 : Math.round(change);
  if (rounded === 0) return after > before ? "(+<0.1%)" : "(−<0.1%)";
  return `(${rounded > 0 ? "+" : "−"}${Math.abs(rounded)}%)`;
}

const WEEKDAY = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const BAR_WIDTH = 40;

export function formatForecast(f: Forecast, title = "Forecast"): string {
  const o = f.options;
  const out: string[] = [];
  out.push(
    `${title}: ${formatCount(f.leads.captured)} leads over ${f.period.days} days from ${f.period.start.slice(0, 10)} (seed ${o.seed})`,
    `assumed: open ${pct(o.openRate)}, click ${pct(o.clickRate)}, unsubscribe ${pct(o.unsubscribeRate)}, bounce ${pct(o.bounceRate)}, ` +
      `site visit ${pct(o.pageViewRate)}/week, webinar ${pct(o.webinarRate)}/week, win ${pct(o.winRate)}, not-now ${pct(o.notNowRate)}`,
    "",
    "Emails",
    renderTable(
      ["", "count"],
      [
        ["to leads (nurture + opt-in confirmations)", formatCount(f.emails.total)],
        ["  nurture steps", formatCount(f.emails.nurture)],
        ["  opt-in confirmations", formatCount(f.emails.confirmations)],
        ["per day, average", formatDecimal(f.emails.averagePerDay)],
        [`per day, peak (${f.emails.peakDate})`, formatCount(f.emails.peakPerDay)],
        ["opened", `${formatCount(f.emails.opened)} (${percent(f.emails.opened, f.emails.nurture)})`],
        ["clicked", `${formatCount(f.emails.clicked)} (${percent(f.emails.clicked, f.emails.nurture)})`],
        ["bounced", formatCount(f.emails.bounced)],
        ["unsubscribed", formatCount(f.unsubscribes.total)],
        ["hand-off notifications to reps", formatCount(f.emails.repNotifications)],
      ],
      ["left", "right"],
    ),
    "",
    "Emails per day",
    renderTable(
      ["day", "", "emails", ""],
      f.emails.perDay.map((d) => [
        d.date,
        WEEKDAY[new Date(`${d.date}T00:00:00Z`).getUTCDay()] ?? "",
        formatCount(d.emails),
        "█".repeat(f.emails.peakPerDay > 0 ? Math.round((d.emails / f.emails.peakPerDay) * BAR_WIDTH) : 0),
      ]),
      ["left", "left", "right", "left"],
    ),
    "",
    "Emails per sequence and step",
    renderTable(
      ["sequence", "step", "enrolled", "sent", "skipped", "opened", "clicked"],
      f.emails.bySequence.flatMap((s) => [
        [s.sequenceId, "(all)", formatCount(s.enrolled), formatCount(s.sent), formatCount(s.skipped), "", ""],
        ...s.steps.map((st) => [
          "",
          st.stepId,
          "",
          formatCount(st.sent),
          formatCount(st.skipped),
          formatCount(st.opened),
          formatCount(st.clicked),
        ]),
      ]),
      ["left", "left", "right", "right", "right", "right", "right"],
    ),
    "",
    "Segments",
    renderTable(
      ["segment", "new leads", "MQLs", "hand-offs", "unsubscribes"],
      [
        ...Object.keys(f.leads.bySegment).map((seg) => [
          seg,
          formatCount(f.leads.bySegment[seg] ?? 0),
          formatCount(f.mqls.bySegment[seg] ?? 0),
          formatCount(f.handoffs.bySegment[seg] ?? 0),
          formatCount(f.unsubscribes.bySegment[seg] ?? 0),
        ]),
        ["total", formatCount(f.leads.captured), formatCount(f.mqls.total), formatCount(f.handoffs.total), formatCount(f.unsubscribes.total)],
      ],
      ["left", "right", "right", "right", "right"],
    ),
    "",
    "Teams and rep load (leads claimed)",
    renderTable(
      ["team", "rep", "hand-offs", "leads"],
      Object.entries(f.handoffs.byTeam).flatMap(([team, n]) => [
        [team, "", formatCount(n), ""],
        ...f.repLoad.reps.filter((r) => r.teamId === team).map((r) => ["", r.name, "", formatCount(r.leads)]),
      ]),
      ["left", "left", "right", "right"],
    ),
    `rep load: max ${formatCount(f.repLoad.max)}, average ${formatDecimal(f.repLoad.average)} leads per rep; ` +
      `${formatCount(f.handoffs.unassigned)} MQLs no team covers; ${formatCount(f.handoffs.reassigned)} reassigned after a missed claim, ` +
      `${formatCount(f.handoffs.escalated)} escalated`,
    `sales: ${formatCount(f.sales.claimed)} claimed, ${formatCount(f.sales.won)} won, ${formatCount(f.sales.lost)} lost, ` +
      `${formatCount(f.sales.disqualified)} disqualified, ${formatCount(f.sales.notNow)} not now (${formatCount(f.sales.recycled)} recycled so far), ` +
      `${formatCount(f.sales.purchases)} customer purchases`,
    "",
    "AWS cost estimate",
    renderTable(
      ["service", "this period", "per 1,000 leads"],
      (["dynamodb", "eventbridge", "lambda", "ses", "total"] as const).map((k) => [
        { dynamodb: "DynamoDB", eventbridge: "EventBridge", lambda: "Lambda", ses: "SES", total: "total" }[k],
        formatUsd(f.cost.usd[k]),
        formatUsd(f.cost.usdPerThousandLeads[k]),
      ]),
      ["left", "right", "right"],
    ),
    `plus ${formatUsd(f.cost.fixedUsd)} fixed for the period (the sweeper's cron), whatever the number of leads`,
    ...f.cost.assumptions.map((a) => `  · ${a}`),
  );
  return out.join("\n");
}

function pct(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

interface ComparedRow {
  label: string;
  before: number;
  after: number;
  format?: (n: number) => string;
}

function comparedRows(a: Forecast, b: Forecast): ComparedRow[] {
  const rows: ComparedRow[] = [
    { label: "leads captured", before: a.leads.captured, after: b.leads.captured },
    { label: "emails to leads", before: a.emails.total, after: b.emails.total },
    { label: "  nurture emails", before: a.emails.nurture, after: b.emails.nurture },
    { label: "  emails per day, average", before: a.emails.averagePerDay, after: b.emails.averagePerDay, format: formatDecimal },
    { label: "  emails per day, peak", before: a.emails.peakPerDay, after: b.emails.peakPerDay },
  ];
  const sequences = union(a.emails.bySequence.map((s) => s.sequenceId), b.emails.bySequence.map((s) => s.sequenceId));
  for (const id of sequences) {
    const sa = a.emails.bySequence.find((s) => s.sequenceId === id);
    const sb = b.emails.bySequence.find((s) => s.sequenceId === id);
    rows.push({ label: `  ${id}`, before: sa?.sent ?? 0, after: sb?.sent ?? 0 });
    const steps = union(sa?.steps.map((s) => s.stepId) ?? [], sb?.steps.map((s) => s.stepId) ?? []);
    for (const step of steps) {
      rows.push({
        label: `    ${step}`,
        before: sa?.steps.find((s) => s.stepId === step)?.sent ?? 0,
        after: sb?.steps.find((s) => s.stepId === step)?.sent ?? 0,
      });
    }
  }
  rows.push({ label: "MQLs", before: a.mqls.total, after: b.mqls.total });
  for (const seg of union(Object.keys(a.mqls.bySegment), Object.keys(b.mqls.bySegment))) {
    rows.push({ label: `  ${seg}`, before: a.mqls.bySegment[seg] ?? 0, after: b.mqls.bySegment[seg] ?? 0 });
  }
  rows.push({ label: "hand-offs", before: a.handoffs.total, after: b.handoffs.total });
  for (const team of union(Object.keys(a.handoffs.byTeam), Object.keys(b.handoffs.byTeam))) {
    rows.push({ label: `  ${team}`, before: a.handoffs.byTeam[team] ?? 0, after: b.handoffs.byTeam[team] ?? 0 });
  }
  rows.push(
    { label: "rep load, max", before: a.repLoad.max, after: b.repLoad.max },
    { label: "rep load, average", before: a.repLoad.average, after: b.repLoad.average, format: formatDecimal },
    { label: "unsubscribes", before: a.unsubscribes.total, after: b.unsubscribes.total },
    { label: "won", before: a.sales.won, after: b.sales.won },
    { label: "AWS cost per 1,000 leads", before: a.cost.usdPerThousandLeads.total, after: b.cost.usdPerThousandLeads.total, format: formatUsd },
  );
  return rows;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}


/**
 * A base and a candidate config run under the same several seeds: only the figures that moved,
 * each with the median of both and the range of the change across seeds, so a marketer can tell
 * a real effect ("every seed") from noise ("within noise": the seeds disagree on its sign).
 */
export function formatSeededComparison(runs: readonly (readonly [Forecast, Forecast])[], labels: readonly [string, string]): string {
  const [first] = runs;
  if (!first) throw new RangeError("formatSeededComparison needs at least one pair of forecasts");
  const perSeed = runs.map(([base, candidate]) => comparedRows(base, candidate));
  // Rows are keyed by their path of labels: two sequences may both have a step called `welcome`.
  const byPath = new Map<string, { label: string; format: (n: number) => string; before: number[]; after: number[] }>();
  for (const rows of perSeed) {
    const path: { depth: number; label: string }[] = [];
    for (const row of rows) {
      const depth = row.label.length - row.label.trimStart().length;
      while ((path.at(-1)?.depth ?? -1) >= depth) path.pop();
      path.push({ depth, label: row.label });
      const key = path.map((p) => p.label).join("\u0000");
      const entry = byPath.get(key) ?? { label: row.label, format: row.format ?? formatCount, before: [], after: [] };
      entry.before.push(row.before);
      entry.after.push(row.after);
      byPath.set(key, entry);
    }
  }
  const table: string[][] = [];
  // A row that moved keeps the rows it is indented under (its sequence, its segment's total).
  const ancestors: { depth: number; cells: string[]; shown: boolean }[] = [];
  for (const { label, format, before, after } of byPath.values()) {
    const depth = label.length - label.trimStart().length;
    while ((ancestors.at(-1)?.depth ?? -1) >= depth) ancestors.pop();
    const changes = before.map((b, i) => (after[i] ?? 0) - b);
    const low = Math.min(...changes);
    const high = Math.max(...changes);
    const verdict = changes.every((c) => c === 0) ? "" : low > 0 || high < 0 ? "every seed" : "within noise";
    const cells = [label, format(median(before)), format(median(after)), signed(format, median(changes)), verdict ? `${signed(format, low)} … ${signed(format, high)}` : "", verdict];
    const row = { depth, cells, shown: false };
    if (verdict) {
      for (const ancestor of ancestors.filter((a) => !a.shown)) {
        table.push(ancestor.cells);
        ancestor.shown = true;
      }
      table.push(cells);
      row.shown = true;
    }
    ancestors.push(row);
  }
  const seeds = runs.map(([base]) => base.options.seed);
  const seedText = seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${Math.min(...seeds)}–${Math.max(...seeds)}`;
  return [
    `Comparison: ${labels[0]} → ${labels[1]} (${formatCount(first[0].leads.captured)} synthetic leads, ${first[0].period.days} days, ${seedText})`,
    "",
    table.length > 0
      ? renderTable(["", labels[0], labels[1], "change", `range over ${seeds.length} seed${seeds.length === 1 ? "" : "s"}`, ""], table, ["left", "right", "right", "right", "right", "left"])
      : "No figure changes under any seed.",
    "",
    "Medians over the seeds. \"every seed\": the change has the same sign under each seed; \"within noise\": the seeds disagree, so the change may be chance.",
  ].join("\n");
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function signed(format: (n: number) => string, n: number): string {
  if (n === 0) return "0";
  return `${n > 0 ? "+" : "−"}${format(Math.abs(n))}`;
}
