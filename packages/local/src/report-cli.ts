/**
 * `npm run report [-- --from 2026-01-01 --to 2026-01-31 --segment smb --source google --form demo-request
 * --sequence smb-nurture --url http://127.0.0.1:3000 --json]`: asks the running local stack's API for
 * the funnel report, with a short-lived marketing token signed by the stack's own secret
 * (`.leadloop/auth-secret` or LEADLOOP_AUTH_SECRET), and prints it as tables.
 */
import { findRunningStack } from "./stack-file";
import { parseArgs } from "node:util";
import { signHs256Token } from "@leadloop/api";
import type { FunnelFigures, FunnelReport } from "@leadloop/core";
import { localAuthSecret } from "./local-secrets";

const USAGE = `Usage: npm run report -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--segment S] [--source S]
                         [--form F] [--sequence Q] [--url http://127.0.0.1:3000] [--json]

Defaults: the last 30 days, the local stack at http://127.0.0.1:3000.`;

const pct = (r: number | null) => (r === null ? "–" : `${(r * 100).toFixed(1)}%`);
const num = (n: number) => n.toLocaleString("en");
const dur = (h: number | null) => (h === null ? "–" : h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} d`);
const money = (list: FunnelFigures["revenueWon"]) => (list.length === 0 ? "–" : list.map((r) => `${num(r.amount)} ${r.currency}`).join(" + "));

/** A plain table: first column left-aligned, the rest right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(headers), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function breakdown(title: string, rows: ({ name: string } & FunnelFigures)[]): string {
  if (rows.length === 0) return `${title}: nothing in this period`;
  return `${title}\n${table(
    [title.replace(/^By /, ""), "Captured", "Engaged", "MQL", "Claimed", "Won", "Lead→won", "Win rate", "Revenue"],
    rows.map((r) => [r.name, ...r.stages.map((s) => num(s.count)), pct(r.overallConversion), pct(r.winRate), money(r.revenueWon)]),
  )}`;
}

/** The report as terminal tables. */
export function formatFunnelReport(report: FunnelReport): string {
  const t = report.totals;
  const filters = Object.entries(report.filters).map(([k, v]) => `${k}=${v}`).join(", ");
  const parts = [
    `Funnel ${report.period.from} to ${report.period.to} (${report.period.days} days)${filters ? `, ${filters}` : ""}`,
    table(
      ["Stage", "Count", "From previous"],
      t.stages.map((s) => [s.stage, num(s.count), pct(s.conversionFromPrevious)]),
    ),
    `Closed: won ${num(t.outcomes.won)}, lost ${num(t.outcomes.lost)}, disqualified ${num(t.outcomes.disqualified)}, not now ${num(t.outcomes.notNow)}; win rate ${pct(t.winRate)}; revenue won ${money(t.revenueWon)}`,
    table(
      ["Time in stage (median)", "Median", "Deals"],
      [
        ["captured → MQL", dur(t.medianHours.capturedToMql), num(t.durationSamples.capturedToMql)],
        ["MQL → claimed", dur(t.medianHours.mqlToClaimed), num(t.durationSamples.mqlToClaimed)],
        ["claimed → closed", dur(t.medianHours.claimedToClosed), num(t.durationSamples.claimedToClosed)],
      ],
    ),
    t.lossReasons.length > 0 ? table(["Loss reason", "Deals"], t.lossReasons.map((r) => [r.reason, num(r.count)])) : "Loss reasons: none",
    breakdown("By segment", report.bySegment.map((r) => ({ ...r, name: r.segment }))),
    breakdown("By source", report.bySource.map((r) => ({ ...r, name: r.source }))),
    breakdown("By form", report.byForm.map((r) => ({ ...r, name: r.formId }))),
    report.sequences.length === 0
      ? "Nurture email: none sent in this period"
      : table(
          ["Sequence · step", "Sent", "Opened", "Clicked", "Unsub", "Bounced", "Open rate", "Click rate", "Won deals touched"],
          report.sequences.flatMap((s) => [
            ...s.steps.map((x) => [`${s.sequenceId} · ${x.stepId}`, num(x.sent), num(x.opened), num(x.clicked), num(x.unsubscribed), num(x.bounced), pct(x.openRate), pct(x.clickRate), num(x.wonTouches)]),
            [`${s.sequenceId} (all; won deals ${num(s.wonDeals)})`, num(s.totals.sent), num(s.totals.opened), num(s.totals.clicked), num(s.totals.unsubscribed), num(s.totals.bounced), pct(s.totals.openRate), pct(s.totals.clickRate), ""],
          ]),
        ),
    ...((report.broadcasts ?? []).length === 0
      ? []
      : [
          table(
            ["Broadcast", "Sent", "Opened", "Clicked", "Unsub", "Bounced", "Open rate", "Click rate"],
            report.broadcasts.map((b) => [b.broadcastId, num(b.sent), num(b.opened), num(b.clicked), num(b.unsubscribed), num(b.bounced), pct(b.openRate), pct(b.clickRate)]),
          ),
        ]),
  ];
  return `${parts.join("\n\n")}\n`;
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      segment: { type: "string" },
      source: { type: "string" },
      form: { type: "string" },
      sequence: { type: "string" },
      url: { type: "string", default: findRunningStack(env).url },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const token = await signHs256Token({ email: "report-cli@leadloop.local", roles: ["marketing"], ttl: "5m" }, localAuthSecret(findRunningStack(env).dataDir, env));
  const query = new URLSearchParams();
  for (const key of ["from", "to", "segment", "source", "form", "sequence"] as const) {
    const value = values[key];
    if (value) query.set(key, value);
  }
  const url = `${values.url.replace(/\/$/, "")}/v1/reports/funnel?${query}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  } catch {
    process.stderr.write(`Could not reach ${values.url} (from ${findRunningStack(env).from}): is the local stack running (npm start)? Otherwise set PORT or LEADLOOP_URL to its address.\n`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as FunnelReport & { detail?: string };
  if (!res.ok) {
    process.stderr.write(`The report failed (${res.status}): ${body.detail ?? "no detail"}\n`);
    return 1;
  }
  process.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : formatFunnelReport(body));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
      process.exit(2);
    },
  );
}
