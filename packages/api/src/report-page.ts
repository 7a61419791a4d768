/**
 * The /reports page: the funnel as a marketer wants to see it — headline figures, the funnel,
 * the trend, time in each stage, why deals were lost, segments and sources side by side, and each
 * email step's figures. Server-rendered shell; its script calls GET /v1/reports/funnel with the
 * bearer token (pasted once or arriving as `#token=`, kept in sessionStorage like /sales) and draws
 * with Chart.js served by this API from /assets/chart.umd.js. Below the funnel: the cohort funnel
 * (GET /v1/reports/cohorts, bars of whole-lead counts), the deal reviews for the weekly meeting with
 * one deal's path on a click (GET /v1/reports/reviews…), and score calibration on request.
 */
import { PAGE_CLOCK_SCRIPT, pageClockMeta } from "./page-clock";

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
.learn{display:flex;gap:10px;flex-wrap:wrap;align-items:end;margin-bottom:10px}
tr.review{cursor:pointer}tr.review:hover td{background:#f4f6fb}
.path{list-style:none;padding:0;margin:0;font-size:13px}.path li{padding:4px 0;border-bottom:1px solid #eef1f6}
.path .at{color:#66708a;display:inline-block;min-width:150px}
pre.diff{background:#0f172a;color:#e2e8f0;padding:12px;border-radius:8px;font-size:12px;overflow-x:auto}
.up{color:#2f7d4f}.down{color:#b42318}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
`;

const SCRIPT = `
const TOKEN_KEY = "leadloop.token";
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// A token link carries it in the fragment (#token=…), which never reaches a server, an access log
// or a Referer; a token in the query string is not read.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) {
  sessionStorage.setItem(TOKEN_KEY, fragment.get("token"));
  history.replaceState(null, "", location.pathname + location.search);
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
  const today = clockNow();
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
  await loadLearning();
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
  // Bars of whole counts per day, read at a glance; a smoothed line suggests values between days.
  chart("trend", {
    type: "bar",
    data: { labels: report.byDay.map((d) => d.day.slice(5)),
      datasets: [["captured", "#1f3a8a"], ["engaged", "#3b82f6"], ["mql", "#f59e0b"], ["won", "#16a34a"]].map(([k, color]) => ({ label: STAGE_LABELS[k], data: report.byDay.map((d) => d[k]), backgroundColor: color, borderRadius: 3 })) },
    options: { interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
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

const LEARN_SCRIPT = `
const STAGE_NAMES = { captured: "Captured", engaged: "Engaged", mql: "MQL", claimed: "Claimed", closed: "Closed", won: "Won" };
const api = async (path) => {
  const res = await fetch(path, { headers: { authorization: "Bearer " + token() } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail || ("failed (" + res.status + ")"));
  return body;
};
const learnCharts = [];
function learnChart(id, config) {
  const c = new Chart($(id), { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options } });
  learnCharts.push(c);
}
const integerAxis = { beginAtZero: true, ticks: { precision: 0 } };

async function loadLearning() {
  while (learnCharts.length) learnCharts.pop().destroy();
  await Promise.all([loadCohorts(), loadReviews(), loadAbTests(), loadRetention()]).catch((e) => { $("learn-error").textContent = e.message; });
  document.body.dataset.learning = "true";
}

function periodQuery() {
  const q = new URLSearchParams();
  for (const k of ["from", "to", "segment", "source"]) if ($(k).value) q.set(k, $(k).value);
  return q;
}

async function loadCohorts() {
  const q = periodQuery();
  q.set("grain", $("grain").value);
  if ($("form").value) q.set("form", $("form").value);
  const r = await api("/v1/reports/cohorts?" + q);
  const stages = r.totals.stages;
  $("cohort-note").textContent = "Leads captured " + r.period.from + " to " + r.period.to + ", compared with " + r.previousPeriod.from + " to " + r.previousPeriod.to + ". A lead counts at a stage only once it got that far.";
  learnChart("cohort-funnel", {
    type: "bar",
    data: { labels: stages.map((s) => STAGE_NAMES[s.stage] + (s.conversionFromPrevious === null ? "" : " (" + pct(s.conversionFromPrevious) + ")")),
      datasets: [
        { label: "This period", data: stages.map((s) => s.count), backgroundColor: "#1f3a8a", borderRadius: 4 },
        { label: "Previous period", data: r.previous.stages.map((s) => s.count), backgroundColor: "#cbd5e1", borderRadius: 4 },
      ] },
    options: { scales: { y: integerAxis } },
  });
  learnChart("cohort-weeks", {
    type: "bar",
    data: { labels: r.cohorts.map((c) => c.cohort),
      datasets: ["captured", "mql", "claimed", "won"].map((k, i) => ({ label: STAGE_NAMES[k], data: r.cohorts.map((c) => c.stages.find((s) => s.stage === k).count), backgroundColor: ["#1f3a8a", "#f59e0b", "#0ea5a4", "#16a34a"][i], borderRadius: 4 })) },
    options: { scales: { y: integerAxis } },
  });
  const dim = $("cohort-dim").value;
  const head = "<tr><th>" + esc(dim) + "</th>" + stages.map((s) => "<th>" + STAGE_NAMES[s.stage] + "</th>").join("") + "<th>Lost</th><th>Disq.</th><th>Not now</th><th>MQL→claimed</th><th>Claimed→closed</th></tr>";
  const rows = r.by[dim] || [];
  $("cohort-table").innerHTML = rows.length === 0 ? '<p class="muted">No leads captured in this period.</p>' : "<table>" + head + rows.map((g) => "<tr><td>" + esc(g.value) + "</td>" +
    g.stages.map((s) => "<td>" + fmt.format(s.count) + (s.conversionFromPrevious === null ? "" : ' <span class="muted">' + pct(s.conversionFromPrevious) + "</span>") + "</td>").join("") +
    "<td>" + g.outcomes.lost + "</td><td>" + g.outcomes.disqualified + "</td><td>" + g.outcomes.notNow + "</td><td>" + dur(g.medianHours.mqlToClaimed) + "</td><td>" + dur(g.medianHours.claimedToClosed) + "</td></tr>").join("") + "</table>";
  $("cohort-change").innerHTML = r.change.map((c) => STAGE_NAMES[c.stage] + " " + fmt.format(c.count) + ' <span class="' + (c.delta >= 0 ? "up" : "down") + '">(' + (c.delta >= 0 ? "+" : "") + c.delta + ")</span>").join(" · ");
}

async function loadAbTests() {
  const r = await api("/v1/reports/ab-tests");
  const pv = (p) => p === null ? "control" : p < 0.001 ? "p < 0.001" : "p = " + p.toFixed(3);
  $("ab-tests").innerHTML = r.tests.length === 0 ? '<p class="muted">No step in the sequences has variants.</p>' : r.tests.map((t) =>
    '<div class="ab-test" data-step="' + esc(t.sequenceId + "/" + t.stepId) + '"><h3>' + esc(t.sequenceName + " · " + t.stepId) + ' <span class="muted">' +
    (t.status === "ended" ? "ended: " + esc(t.ended.reason) + "; every lead now gets " + esc(t.ended.winner) : "running" + (t.rule ? ", ends when the leader on " + esc(t.rule.metric) + " is ahead at " + t.rule.confidence + " after " + t.rule.minSends + " sends each" : "")) +
    "</span></h3><table><tr><th>Variant</th><th>Subject</th><th>Sends</th><th>Opens</th><th>Clicks</th><th>MQLs</th><th>Wins</th><th>" + esc(t.metric) + " per send</th><th>vs control</th></tr>" +
    t.variants.map((v) => '<tr class="ab-variant" data-variant="' + esc(v.variantId) + '"><td>' + esc(v.variantId) + (t.ended && t.ended.winner === v.variantId ? " (winner)" : "") + "</td><td>" + esc(v.subject) + "</td><td>" + fmt.format(v.sent) + "</td><td>" + fmt.format(v.opened) + "</td><td>" + fmt.format(v.clicked) + "</td><td>" + fmt.format(v.mqls) + "</td><td>" + fmt.format(v.wins) + "</td><td>" + pct(v.rates[t.metric]) + "</td><td>" + pv(v.pValue) + "</td></tr>").join("") +
    "</table></div>").join("");
}

async function loadRetention() {
  const q = new URLSearchParams();
  for (const k of ["from", "to"]) if ($(k).value) q.set(k, $(k).value);
  const res = await fetch("/v1/reports/retention?" + q, { headers: { authorization: "Bearer " + token() } });
  const r = await res.json().catch(() => ({}));
  if (res.status === 404 || res.status === 503) { $("retention").innerHTML = '<p class="muted">' + esc(r.detail || "No reward points here.") + "</p>"; return; }
  if (!res.ok) throw new Error(r.detail || ("retention failed (" + res.status + ")"));
  const tiers = r.tiers;
  learnChart("retention-points", {
    type: "bar",
    data: { labels: tiers.map((t) => t.name),
      datasets: [
        { label: "Earned", data: tiers.map((t) => t.pointsEarned), backgroundColor: "#1f3a8a", borderRadius: 4 },
        { label: "Redeemed", data: tiers.map((t) => t.pointsRedeemed), backgroundColor: "#16a34a", borderRadius: 4 },
        { label: "Lapsed", data: tiers.map((t) => t.pointsExpired), backgroundColor: "#cbd5e1", borderRadius: 4 },
      ] },
    options: { scales: { y: integerAxis } },
  });
  const row = (name, f) => "<tr><td>" + esc(name) + "</td><td>" + fmt.format(f.purchases) + "</td><td>" + fmt.format(f.repeatPurchases) + "</td><td>" + pct(f.repeatPurchaseRate) + "</td><td>" +
    fmt.format(f.pointsEarned) + "</td><td>" + fmt.format(f.redemptions) + "</td><td>" + fmt.format(f.pointsRedeemed) + "</td><td>" + fmt.format(f.pointsReversed) + "</td><td>" + fmt.format(f.pointsExpired) + "</td></tr>";
  $("retention").innerHTML = "<table><tr><th>Tier</th><th>Purchases</th><th>Repeat</th><th>Repeat rate</th><th>Points earned</th><th>Redemptions</th><th>Points redeemed</th><th>Taken back</th><th>Lapsed</th></tr>" +
    tiers.map((t) => row(t.name, t)).join("") + row("All tiers", r.total).replace("<tr>", '<tr class="total">') + "</table>";
}

async function loadReviews() {
  const q = periodQuery();
  if ($("review-outcome").value) q.set("outcome", $("review-outcome").value);
  if ($("review-campaign").value.trim()) q.set("campaign", $("review-campaign").value.trim());
  const r = await api("/v1/reports/reviews?" + q);
  $("review-summary").innerHTML = fmt.format(r.count) + " deals: won " + r.outcomes.won + ", lost " + r.outcomes.lost + ", disqualified " + r.outcomes.disqualified + ", not now " + r.outcomes.notNow +
    " · reps' verdicts: good fit " + r.quality["good-fit"] + ", bad fit " + r.quality["bad-fit"] + ", wrong contact " + r.quality["wrong-contact"] + ", unrated " + r.quality.unrated;
  learnChart("review-reasons", {
    type: "bar",
    data: { labels: r.reasons.map((x) => x.outcome + ": " + x.reason), datasets: [{ label: "Deals", data: r.reasons.map((x) => x.count), backgroundColor: r.reasons.map((x) => x.outcome === "won" ? "#16a34a" : x.outcome === "lost" ? "#e11d48" : x.outcome === "disqualified" ? "#64748b" : "#f59e0b"), borderRadius: 4 }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: integerAxis } },
  });
  $("reviews").innerHTML = r.reviews.length === 0 ? '<p class="muted">No deal closed in this period.</p>' :
    "<table><tr><th>Closed</th><th>Outcome</th><th>Reason</th><th>Segment</th><th>Source</th><th>Campaign</th><th>Rep</th><th>Score</th><th>Quality</th><th>Went well</th><th>To improve</th></tr>" +
    r.reviews.map((v) => '<tr class="review" data-lead="' + esc(v.leadId) + '" data-closed="' + esc(v.closedAt) + '"><td>' + esc(v.closedAt.slice(0, 16).replace("T", " ")) + "</td><td>" + esc(v.outcome) + "</td><td>" + esc(v.reason || "–") + "</td><td>" + esc(v.dims.segment) + "</td><td>" + esc(v.dims.source) + "</td><td>" + esc(v.dims.campaign) + "</td><td>" + esc(v.dims.rep) + "</td><td>" + esc(v.score ?? "–") + "</td><td>" + esc(v.quality ? v.quality.verdict + (v.quality.reason ? " (" + v.quality.reason + ")" : "") : "–") + "</td><td>" + esc(v.notes?.wentWell || "") + "</td><td>" + esc(v.notes?.toImprove || "") + "</td></tr>").join("") + "</table>";
  for (const row of document.querySelectorAll("tr.review")) row.addEventListener("click", () => openDeal(row.dataset.lead, row.dataset.closed));
}

async function openDeal(leadId, closedAt) {
  try {
    const d = await api("/v1/reports/reviews/" + encodeURIComponent(leadId) + "/" + encodeURIComponent(closedAt));
    const v = d.review;
    const h = v.stageHours;
    $("deal").hidden = false;
    $("deal-title").textContent = "Deal " + v.leadId + ": " + v.outcome + (v.reason ? " (" + v.reason + ")" : "");
    $("deal-facts").innerHTML = "<table><tr><th>Stage</th><th>Time in it</th></tr>" +
      [["Captured → engaged", h.capturedToEngaged], ["Engaged → MQL", h.engagedToMql], ["MQL → claimed", h.mqlToClaimed], ["Claimed → closed", h.claimedToClosed]].map((x) => "<tr><td>" + x[0] + "</td><td>" + dur(x[1]) + "</td></tr>").join("") +
      "</table><p>Forms " + d.counts.forms + " · emails sent " + d.counts.emailsSent + ", opened " + d.counts.opened + ", clicked " + d.counts.clicked + " · pages " + d.counts.pages + " · qualified at " + esc(v.score ?? "–") + " by " + esc(v.rules.join(", ") || "–") + "</p>";
    $("deal-path").innerHTML = d.path.map((p) => '<li><span class="at">' + esc(p.at.slice(0, 16).replace("T", " ")) + "</span> " + esc(p.type) + " " + esc(Object.entries(p.data).map(([k, x]) => k + "=" + x).join(" ")) + "</li>").join("");
    learnChart("deal-score", {
      type: "bar",
      data: { labels: d.scoreOverTime.map((s) => s.at.slice(5, 16).replace("T", " ")), datasets: [{ label: "Score", data: d.scoreOverTime.map((s) => s.score), backgroundColor: "#3b82f6", borderRadius: 4 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: integerAxis } },
    });
    $("deal").scrollIntoView();
  } catch (e) {
    $("learn-error").textContent = e.message;
  }
}

async function runCalibration() {
  const q = new URLSearchParams();
  if ($("from").value) q.set("from", $("from").value);
  if ($("to").value) q.set("to", $("to").value);
  if ($("min-deals").value) q.set("minDeals", $("min-deals").value);
  if ($("capacity").value) q.set("capacity", $("capacity").value);
  try {
    const c = await api("/v1/reports/calibration?" + q);
    $("calibration").innerHTML = "<p>" + c.closed.total + " closed deals (won " + c.closed.won + ", lost " + c.closed.lost + ", disqualified " + c.closed.disqualified + "), win rate " + pct(c.winRate) + ".</p>" +
      "<table><tr><th>Rule</th><th>Deals</th><th>Won</th><th>Lost+disq.</th><th>Win rate</th><th>95% interval</th><th>Lift</th><th>Bad fit</th><th>Wrong contact</th></tr>" +
      c.rules.map((r) => "<tr><td>" + esc(r.rule) + "</td><td>" + r.deals + "</td><td>" + r.won + "</td><td>" + r.lostOrDisqualified + "</td><td>" + pct(r.winRate) + "</td><td>" + (r.interval ? pct(r.interval.low) + "–" + pct(r.interval.high) : "–") + "</td><td>" + (r.lift === null ? "–" : r.lift.toFixed(2)) + "</td><td>" + r.badFit + "</td><td>" + r.wrongContact + "</td></tr>").join("") + "</table>" +
      "<table><tr><th>Segment</th><th>Threshold now</th><th>Suggested</th><th>MQLs / week</th><th>Capacity / week</th><th>Why</th></tr>" +
      c.thresholds.map((t) => "<tr><td>" + esc(t.segment) + "</td><td>" + t.current + "</td><td>" + t.suggested + "</td><td>" + t.weeklyMqls + "</td><td>" + t.weeklyCapacity + "</td><td>" + esc(t.why) + "</td></tr>").join("") + "</table>" +
      (c.diff ? '<pre class="diff">' + esc(c.diff) + "</pre>" : '<p class="muted">No change to config/scoring.yaml suggested.</p>');
  } catch (e) {
    $("calibration").innerHTML = '<p id="calibration-error">' + esc(e.message) + "</p>";
  }
}
for (const id of ["grain", "cohort-dim"]) $(id).addEventListener("change", () => loadLearning());
$("review-filters").addEventListener("submit", (e) => { e.preventDefault(); loadLearning(); });
$("calibrate").addEventListener("click", () => runCalibration());
`;

const card = (id: string, title: string, extra = "") =>
  `<section class="card"><h2>${title}</h2><div class="chart"><canvas id="${id}" role="img" aria-label="${title}"></canvas></div>${extra}</section>`;

/** `now`: the server's clock (the stack's virtual clock locally); the default period ends today by it. */
export function reportPage(now: Date): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">${pageClockMeta(now)}<title>Funnel report · leadloop</title><style>${STYLE}</style>
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
  <h2>Cohorts: leads captured in the period, followed to the end</h2>
  <p id="learn-error" class="muted"></p>
  <div class="learn">
    <label>Cohorts by<select id="grain"><option value="week">week</option><option value="month">month</option></select></label>
    <label>Break down by<select id="cohort-dim">${["segment", "formId", "source", "medium", "campaign", "team", "rep"].map((d) => `<option value="${d}">${d === "formId" ? "form" : d}</option>`).join("")}</select></label>
    <span class="muted" id="cohort-change"></span>
  </div>
  <div class="grid">
    ${card("cohort-funnel", "Cohort funnel against the previous period", '<p class="muted" id="cohort-note"></p>')}
    ${card("cohort-weeks", "Each cohort's leads by the furthest stage reached")}
    <section class="card wide"><h2>Cohort funnel by dimension</h2><div id="cohort-table"></div></section>
  </div>
  <h2>Deal reviews</h2>
  <form class="learn" id="review-filters">
    <label>Outcome<select id="review-outcome"><option value="">All</option><option>won</option><option>lost</option><option>disqualified</option><option>not-now</option></select></label>
    <label>Campaign<input id="review-campaign" placeholder="any"></label>
    <button type="submit">Show reviews</button>
  </form>
  <div class="grid">
    <section class="card wide"><p id="review-summary"></p><div id="reviews"></div></section>
    ${card("review-reasons", "Why deals closed the way they did")}
    <section class="card" id="deal" hidden><h2 id="deal-title"></h2><div id="deal-facts"></div><div class="chart"><canvas id="deal-score" role="img" aria-label="Score over time"></canvas></div><ol class="path" id="deal-path"></ol></section>
  </div>
  <h2>A/B tests</h2>
  <section class="card wide" id="ab-tests"><p class="muted">Loading…</p></section>
  <h2>Retention: purchases and reward points by tier</h2>
  <div class="grid">
    <section class="card wide"><div id="retention"></div><p class="muted">Each purchase, redemption and lapse counts under the tier the customer was in when it happened. Repeat rate: purchases by customers who had bought before, over all purchases.</p></section>
    ${card("retention-points", "Points earned, redeemed and lapsed, by tier")}
  </div>
  <h2>Score calibration</h2>
  <div class="learn">
    <label>Minimum closed deals<input id="min-deals" type="number" min="1" placeholder="20"></label>
    <label>Hand-offs per rep a week<input id="capacity" type="number" min="1" placeholder="15"></label>
    <button type="button" id="calibrate">Calibrate on this period</button>
  </div>
  <section class="card" id="calibration"><p class="muted">Compares each scoring rule's win rate on closed deals with the overall one.</p></section>
</main>
<script>${PAGE_CLOCK_SCRIPT}${SCRIPT}</script>
<script>${LEARN_SCRIPT}</script>
</body></html>`;
}
