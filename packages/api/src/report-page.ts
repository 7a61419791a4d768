/**
 * The /reports page: the funnel as a marketer wants to see it — headline figures, the funnel,
 * the trend, time in each stage, why deals were lost, segments and sources side by side, and each
 * email step's figures. Server-rendered shell; its script calls GET /v1/reports/funnel with the
 * bearer token (pasted once or arriving as `?token=`, kept in sessionStorage like /sales) and draws
 * with Chart.js served by this API from /assets/chart.umd.js.
 */

const STYLE = `
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f6fb;color:#1d2433;margin:0}
header{background:#1f3a8a;color:#fff;padding:14px 28px;display:flex;align-items:center;gap:20px;flex-wrap:wrap}
header h1{font-size:20px;margin:0;flex:1}header button{background:#ffffff22;color:#fff;border:1px solid #ffffff55}
main{max-width:1280px;margin:0 auto;padding:20px 28px 48px}
form#filters{display:flex;gap:12px;flex-wrap:wrap;align-items:end;background:#fff;padding:14px 18px;border-radius:12px;box-shadow:0 2px 12px #1f3a8a14;margin-bottom:18px}
label{display:flex;flex-direction:column;font-size:12px;color:#66708a;gap:4px}
input,select,textarea{font:inherit;font-size:14px;padding:7px 9px;border:1px solid #cfd6e4;border-radius:8px;background:#fff;color:#1d2433}
button{font:inherit;font-size:14px;background:#1f3a8a;color:#fff;border:0;border-radius:8px;padding:9px 16px;cursor:pointer}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:18px}
.tile{background:#fff;border-radius:12px;padding:14px 16px;box-shadow:0 2px 12px #1f3a8a14}
.tile .label{font-size:12px;color:#66708a;text-transform:uppercase;letter-spacing:.04em}.tile .value{font-size:26px;font-weight:650;margin-top:4px}
.tile .sub{font-size:12px;color:#2f7d4f;margin-top:2px}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.card{background:#fff;border-radius:12px;padding:16px 18px;box-shadow:0 2px 12px #1f3a8a14;min-width:0;overflow-x:auto}
.card h2{font-size:15px;margin:0 0 10px}.card .chart{position:relative;height:260px}
.wide{grid-column:1/-1}
table{width:100%;border-collapse:collapse;font-size:13px}th,td{text-align:right;padding:6px 8px;border-bottom:1px solid #eef1f6;white-space:nowrap}
th:first-child,td:first-child{text-align:left}th{color:#66708a;font-weight:600;font-size:12px}
.muted{color:#66708a;font-size:13px}#error{color:#b42318;font-weight:600}
#signin{max-width:560px;margin:48px auto;background:#fff;border-radius:12px;padding:24px 28px;box-shadow:0 4px 24px #1f3a8a1a}
#signin textarea{width:100%;height:90px}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
`;

const SCRIPT = `
const TOKEN_KEY = "leadloop.token";
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
if (params.get("token")) {
  sessionStorage.setItem(TOKEN_KEY, params.get("token"));
  params.delete("token");
  history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
}
const token = () => sessionStorage.getItem(TOKEN_KEY);
const fmt = new Intl.NumberFormat("en");
const pct = (r) => (r === null || r === undefined ? "–" : (r * 100).toFixed(r < 0.1 ? 1 : 0) + "%");
const dur = (h) => (h === null || h === undefined ? "–" : h < 48 ? h.toFixed(h < 10 ? 1 : 0) + " h" : (h / 24).toFixed(1) + " d");
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const money = (list) => list.length === 0 ? "–" : list.map((r) => new Intl.NumberFormat("en", { style: "currency", currency: r.currency.length === 3 ? r.currency : "XXX", maximumFractionDigits: 0 }).format(r.amount)).join(" + ");
const COLORS = ["#1f3a8a", "#3b82f6", "#0ea5a4", "#f59e0b", "#16a34a", "#e11d48", "#8b5cf6", "#64748b"];
const STAGE_LABELS = { captured: "Captured", engaged: "Engaged", mql: "MQL", claimed: "Claimed", won: "Won" };
const charts = [];

function showSignin(message) {
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
}

function defaults() {
  const today = new Date();
  const from = new Date(today.getTime() - 29 * 86400000);
  if (!$("from").value) $("from").value = params.get("from") || from.toISOString().slice(0, 10);
  if (!$("to").value) $("to").value = params.get("to") || today.toISOString().slice(0, 10);
  for (const k of ["segment", "source", "form", "sequence"]) if (params.get(k)) $(k).dataset.want = params.get(k);
}

async function load() {
  if (!token()) return showSignin();
  $("signin").hidden = true;
  $("app").hidden = false;
  const q = new URLSearchParams();
  for (const k of ["from", "to", "segment", "source", "form", "sequence"]) if ($(k).value) q.set(k, $(k).value);
  $("error").textContent = "";
  $("status").textContent = "Loading…";
  const res = await fetch("/v1/reports/funnel?" + q, { headers: { authorization: "Bearer " + token() } });
  const body = await res.json().catch(() => ({}));
  $("status").textContent = "";
  if (res.status === 401) { sessionStorage.removeItem(TOKEN_KEY); return showSignin(body.detail); }
  if (!res.ok) { $("error").textContent = body.detail || ("The report failed (" + res.status + ")."); return; }
  render(body);
}

function options(select, values) {
  const keep = select.value || select.dataset.want || "";
  select.innerHTML = '<option value="">All</option>' + values.map((v) => '<option value="' + esc(v) + '">' + esc(v) + "</option>").join("");
  if (keep && !values.includes(keep)) select.insertAdjacentHTML("beforeend", '<option value="' + esc(keep) + '">' + esc(keep) + "</option>");
  select.value = keep;
  delete select.dataset.want;
}

function chart(id, config) {
  const chart = new Chart($(id), { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options } });
  charts.push(chart);
}

function tile(label, value, sub) {
  return '<div class="tile"><div class="label">' + esc(label) + '</div><div class="value">' + esc(value) + "</div>" + (sub ? '<div class="sub">' + esc(sub) + "</div>" : "") + "</div>";
}

function figuresTable(rows, key, label) {
  if (rows.length === 0) return '<p class="muted">Nothing in this period.</p>';
  const head = "<tr><th>" + label + "</th><th>Captured</th><th>Engaged</th><th>MQL</th><th>Claimed</th><th>Won</th><th>Lead→won</th><th>Win rate</th><th>Revenue</th></tr>";
  return "<table>" + head + rows.map((r) => "<tr><td>" + esc(r[key]) + "</td>" + r.stages.map((s) => "<td>" + fmt.format(s.count) + "</td>").join("") +
    "<td>" + pct(r.overallConversion) + "</td><td>" + pct(r.winRate) + "</td><td>" + money(r.revenueWon) + "</td></tr>").join("") + "</table>";
}

function render(report) {
  while (charts.length) charts.pop().destroy();
  const t = report.totals;
  const count = (stage) => t.stages.find((s) => s.stage === stage).count;
  options($("segment"), report.bySegment.map((r) => r.segment));
  options($("source"), report.bySource.map((r) => r.source));
  options($("form"), report.byForm.map((r) => r.formId));
  options($("sequence"), report.sequences.map((s) => s.sequenceId));
  $("period").textContent = report.period.from + " to " + report.period.to + " (" + report.period.days + " days)";

  $("tiles").innerHTML =
    tile("Captured", fmt.format(count("captured"))) +
    tile("Engaged", fmt.format(count("engaged")), pct(t.stages[1].conversionFromPrevious) + " of captured") +
    tile("MQLs", fmt.format(count("mql")), pct(t.stages[2].conversionFromPrevious) + " of engaged") +
    tile("Claimed", fmt.format(count("claimed")), pct(t.stages[3].conversionFromPrevious) + " of MQLs") +
    tile("Won", fmt.format(count("won")), pct(t.winRate) + " win rate") +
    tile("Revenue won", money(t.revenueWon));

  chart("funnel", {
    type: "bar",
    data: { labels: t.stages.map((s) => STAGE_LABELS[s.stage] + (s.conversionFromPrevious === null ? "" : "  (" + pct(s.conversionFromPrevious) + ")")),
      datasets: [{ label: "Leads", data: t.stages.map((s) => s.count), backgroundColor: ["#1f3a8a", "#2f55b5", "#3b82f6", "#0ea5a4", "#16a34a"], borderRadius: 6 }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } } },
  });
  chart("trend", {
    type: "line",
    data: { labels: report.byDay.map((d) => d.day.slice(5)),
      datasets: [["captured", "#1f3a8a"], ["engaged", "#3b82f6"], ["mql", "#f59e0b"], ["won", "#16a34a"]].map(([k, color]) => ({ label: STAGE_LABELS[k], data: report.byDay.map((d) => d[k]), borderColor: color, backgroundColor: color, tension: 0.3, pointRadius: 0, borderWidth: 2 })) },
    options: { interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true } } },
  });
  const m = t.medianHours;
  chart("durations", {
    type: "bar",
    data: { labels: ["Captured → MQL", "MQL → claimed", "Claimed → closed"],
      datasets: [{ label: "Median days", data: [m.capturedToMql, m.mqlToClaimed, m.claimedToClosed].map((h) => (h === null ? 0 : +(h / 24).toFixed(2))), backgroundColor: ["#3b82f6", "#f59e0b", "#16a34a"], borderRadius: 6 }] },
    options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => "median " + dur([m.capturedToMql, m.mqlToClaimed, m.claimedToClosed][c.dataIndex]) } } }, scales: { y: { beginAtZero: true, title: { display: true, text: "days" } } } },
  });
  $("durations-note").textContent = "Medians: " + dur(m.capturedToMql) + ", " + dur(m.mqlToClaimed) + ", " + dur(m.claimedToClosed) + " (from " + t.durationSamples.capturedToMql + ", " + t.durationSamples.mqlToClaimed + ", " + t.durationSamples.claimedToClosed + " deals)";
  const closed = [["Won", t.outcomes.won], ["Not now", t.outcomes.notNow], ["Disqualified", t.outcomes.disqualified]].concat(t.lossReasons.map((r) => ["Lost: " + r.reason, r.count]));
  chart("outcomes", {
    type: "doughnut",
    data: { labels: closed.map((c) => c[0]), datasets: [{ data: closed.map((c) => c[1]), backgroundColor: ["#16a34a", "#f59e0b", "#64748b", "#e11d48", "#fb7185", "#be123c", "#fda4af", "#9f1239"] }] },
    options: { plugins: { legend: { position: "right" } } },
  });
  const segs = report.bySegment.slice(0, 8);
  chart("segments", {
    type: "bar",
    data: { labels: segs.map((s) => s.segment),
      datasets: ["captured", "mql", "won"].map((k, i) => ({ label: STAGE_LABELS[k], data: segs.map((s) => s.stages.find((x) => x.stage === k).count), backgroundColor: ["#1f3a8a", "#f59e0b", "#16a34a"][i], borderRadius: 4 })) },
    options: { scales: { y: { beginAtZero: true } } },
  });
  const srcs = report.bySource.slice(0, 8);
  chart("sources", {
    type: "bar",
    data: { labels: srcs.map((s) => s.source),
      datasets: [{ label: "Lead → won", data: srcs.map((s) => (s.overallConversion ?? 0) * 100), backgroundColor: COLORS, borderRadius: 4 }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, title: { display: true, text: "% of captured leads won" } } } },
  });
  $("by-segment").innerHTML = figuresTable(report.bySegment, "segment", "Segment");
  $("by-source").innerHTML = figuresTable(report.bySource, "source", "Source");
  $("by-form").innerHTML = figuresTable(report.byForm, "formId", "Form");

  const steps = report.sequences.flatMap((s) => s.steps.map((step) => ({ ...step, label: s.sequenceId + " · " + step.stepId })));
  chart("steps", {
    type: "bar",
    data: { labels: steps.map((s) => s.label),
      datasets: [
        { label: "Open rate %", data: steps.map((s) => (s.openRate ?? 0) * 100), backgroundColor: "#3b82f6", borderRadius: 4 },
        { label: "Click rate %", data: steps.map((s) => (s.clickRate ?? 0) * 100), backgroundColor: "#0ea5a4", borderRadius: 4 },
        { label: "Won deals touched", data: steps.map((s) => s.wonTouches), backgroundColor: "#16a34a", borderRadius: 4, yAxisID: "won" },
      ] },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "%" } }, won: { position: "right", beginAtZero: true, grid: { display: false }, title: { display: true, text: "won deals" } } } },
  });
  $("sequences").innerHTML = report.sequences.length === 0 ? '<p class="muted">No nurture email in this period.</p>' :
    "<table><tr><th>Sequence · step</th><th>Sent</th><th>Opened</th><th>Clicked</th><th>Unsubscribed</th><th>Bounced</th><th>Open rate</th><th>Click rate</th><th>Won deals touched</th></tr>" +
    report.sequences.map((s) => s.steps.map((x) => "<tr><td>" + esc(s.sequenceId + " · " + x.stepId) + "</td><td>" + [x.sent, x.opened, x.clicked, x.unsubscribed, x.bounced].map((n) => fmt.format(n)).join("</td><td>") +
      "</td><td>" + pct(x.openRate) + "</td><td>" + pct(x.clickRate) + "</td><td>" + fmt.format(x.wonTouches) + "</td></tr>").join("") +
      '<tr><td><strong>' + esc(s.sequenceId) + "</strong> (won deals: " + fmt.format(s.wonDeals) + ")</td><td>" + [s.totals.sent, s.totals.opened, s.totals.clicked, s.totals.unsubscribed, s.totals.bounced].map((n) => "<strong>" + fmt.format(n) + "</strong>").join("</td><td>") +
      "</td><td>" + pct(s.totals.openRate) + "</td><td>" + pct(s.totals.clickRate) + "</td><td></td></tr>").join("") + "</table>";
  document.body.dataset.loaded = "true";
}

$("filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
for (const k of ["segment", "source", "form", "sequence"]) $(k).addEventListener("change", () => load());
$("signin-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  load();
});
$("signout").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); showSignin(); });
defaults();
load();
`;

const card = (id: string, title: string, extra = "") =>
  `<section class="card"><h2>${title}</h2><div class="chart"><canvas id="${id}" role="img" aria-label="${title}"></canvas></div>${extra}</section>`;

export function reportPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Funnel report · leadloop</title><style>${STYLE}</style>
<script src="/assets/chart.umd.js"></script></head>
<body>
<header><h1>Cradle-to-grave funnel</h1><span id="period"></span><button type="button" id="signout">Sign out</button></header>
<div id="signin" hidden>
  <h2>Sign in to the report</h2>
  <p class="muted">Paste a bearer token with the marketing or admin role. On the local stack,
  <code>npm run token -- --rep you@example.com --role marketing</code> prints one.</p>
  <form id="signin-form"><textarea id="token" placeholder="eyJhbGciOi…" required></textarea><p><button type="submit">Show the report</button></p></form>
  <p id="signin-error" class="muted"></p>
</div>
<main id="app" hidden>
  <form id="filters">
    <label>From<input type="date" id="from" name="from"></label>
    <label>To<input type="date" id="to" name="to"></label>
    <label>Segment<select id="segment" name="segment"><option value="">All</option></select></label>
    <label>Source<select id="source" name="source"><option value="">All</option></select></label>
    <label>Form<select id="form" name="form"><option value="">All</option></select></label>
    <label>Sequence<select id="sequence" name="sequence"><option value="">All</option></select></label>
    <button type="submit">Update</button><span id="status" class="muted"></span><span id="error"></span>
  </form>
  <div class="tiles" id="tiles"></div>
  <div class="grid">
    ${card("funnel", "Funnel (conversion from the stage before)")}
    ${card("trend", "Per day")}
    ${card("durations", "Median time in each stage", '<p class="muted" id="durations-note"></p>')}
    ${card("outcomes", "Closed deals and why they were lost")}
    ${card("segments", "Segments")}
    ${card("sources", "Which sources turn into customers")}
    <section class="card wide"><h2>By segment</h2><div id="by-segment"></div></section>
    <section class="card"><h2>By source</h2><div id="by-source"></div></section>
    <section class="card"><h2>By form</h2><div id="by-form"></div></section>
    <section class="card wide"><h2>Nurture email, step by step</h2><div class="chart"><canvas id="steps" role="img" aria-label="Email steps"></canvas></div><div id="sequences"></div></section>
  </div>
  <p class="muted">Counts are of events in the period (a lead captured earlier can qualify in it). Medians are estimated from time buckets.</p>
</main>
<script>${SCRIPT}</script>
</body></html>`;
}
