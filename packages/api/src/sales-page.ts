/**
 * The reps' page at /sales: server-rendered, no framework. The page holds no lead data itself; its
 * script calls the JSON API with the rep's bearer token (pasted once, or arriving as `#token=` from
 * a link, kept in sessionStorage so it leaves with the tab). The outcome form's reason codes come
 * from config/teams.yaml, rendered here.
 */
import type { TeamsFile } from "@leadloop/core";
import { html, raw } from "hono/html";
import { PAGE_CLOCK_SCRIPT, pageClockMeta } from "./page-clock";

const STYLE = `
  :root { --ink:#1b2a4e; --muted:#6b7280; --line:#e5e7eb; --bg:#f4f5f7; --accent:#1f9d55; --warn:#b45309; --bad:#b91c1c; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color:#222; background:var(--bg); }
  header { background:var(--ink); color:#fff; padding:12px 24px; display:flex; align-items:center; gap:16px; }
  header h1 { font-size:18px; margin:0; font-weight:600; }
  header .who { margin-left:auto; font-size:14px; opacity:.9; }
  header button { background:transparent; color:#fff; border:1px solid rgba(255,255,255,.5); border-radius:4px; padding:4px 10px; cursor:pointer; }
  main { display:grid; grid-template-columns: 360px 1fr; gap:20px; padding:20px 24px; max-width:1200px; margin:0 auto; }
  section.card { background:#fff; border-radius:8px; box-shadow:0 1px 2px rgba(0,0,0,.06); padding:16px 18px; }
  h2 { font-size:15px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); margin:4px 0 10px; }
  h3 { margin:0 0 4px; font-size:20px; color:var(--ink); }
  ul.queue { list-style:none; margin:0 0 18px; padding:0; }
  ul.queue li { border:1px solid var(--line); border-radius:6px; padding:8px 10px; margin-bottom:8px; cursor:pointer; }
  ul.queue li:hover, ul.queue li.active { border-color:var(--accent); background:#f0fdf4; }
  .name { font-weight:600; }
  .meta { color:var(--muted); font-size:13px; }
  .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; background:#e0f2fe; color:#075985; }
  .badge.score { background:#dcfce7; color:#166534; }
  .badge.late { background:#fef3c7; color:var(--warn); }
  .empty { color:var(--muted); font-style:italic; margin:0 0 16px; }
  table { border-collapse:collapse; width:100%; margin:6px 0 14px; }
  td, th { text-align:left; padding:4px 8px 4px 0; border-bottom:1px solid var(--line); vertical-align:top; }
  th { color:var(--muted); font-weight:500; width:150px; }
  td.points { text-align:right; font-variant-numeric:tabular-nums; width:60px; }
  button.primary { background:var(--accent); color:#fff; border:0; border-radius:4px; padding:8px 16px; font-size:15px; font-weight:600; cursor:pointer; }
  button.primary:disabled { opacity:.5; cursor:default; }
  form.outcome { display:grid; grid-template-columns: 140px 1fr; gap:8px 12px; align-items:center; max-width:520px; margin:8px 0 16px; }
  form.outcome label { color:var(--muted); }
  input, select, textarea { font:inherit; padding:6px 8px; border:1px solid #cbd5e1; border-radius:4px; width:100%; }
  textarea { height:90px; font-family:ui-monospace, monospace; font-size:12px; }
  .banner { padding:10px 14px; border-radius:6px; margin:0 0 12px; }
  .banner.error { background:#fee2e2; color:var(--bad); }
  .banner.ok { background:#dcfce7; color:#166534; }
  ol.timeline { list-style:none; padding:0; margin:0; border-left:2px solid var(--line); }
  ol.timeline li { padding:4px 0 8px 12px; position:relative; }
  ol.timeline li::before { content:""; width:8px; height:8px; border-radius:50%; background:var(--accent); position:absolute; left:-5px; top:10px; }
  #signin { max-width:560px; margin:40px auto; }
  [hidden] { display:none !important; }
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const when = (iso) => iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
const params = new URLSearchParams(location.search);
// A token link carries it in the fragment (#token=…), which never reaches a server, an access log
// or a Referer; a token in the query string is not read.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) {
  sessionStorage.setItem("leadloop.token", fragment.get("token"));
  history.replaceState(null, "", location.pathname + location.search);
}
let selected = params.get("lead");
const token = () => sessionStorage.getItem("leadloop.token");

function claims() {
  try { return JSON.parse(atob(token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))); } catch { return {}; }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: "Bearer " + token(), ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    if (res.status === 401) signOut(data.detail);
    throw new Error(data.detail || ("The API answered " + res.status));
  }
  return data;
}

function banner(kind, text) {
  const el = $("banner");
  el.className = "banner " + kind;
  el.textContent = text;
  el.hidden = !text;
}

function signOut(reason) {
  sessionStorage.removeItem("leadloop.token");
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signin-error").hidden = !reason;
  $("signin-error").textContent = reason || "";
}

function entryHtml(e) {
  const late = !e.claimedBy && new Date(e.claimBy) < clockNow();
  return '<li data-lead="' + esc(e.leadId) + '"' + (e.leadId === selected ? ' class="active"' : "") + '>' +
    '<div class="name">' + esc(e.name) + '</div>' +
    '<div class="meta">' + esc([e.title, e.company, e.country].filter(Boolean).join(" · ")) + '</div>' +
    '<div class="meta"><span class="badge score">' + esc(e.score) + '</span> ' + esc(e.teamName) +
    (e.claimedBy ? " · claimed " + esc(when(e.claimedAt)) : ' · <span class="badge' + (late ? " late" : "") + '">claim by ' + esc(when(e.claimBy)) + "</span> · with " + esc(e.repName)) +
    '</div></li>';
}

async function loadQueue() {
  const q = await api("GET", "/v1/sales/queue");
  $("who").textContent = q.rep + (q.teams.length ? " · " + q.teams.map((t) => t.name).join(", ") : "");
  $("unclaimed").innerHTML = q.unclaimed.map(entryHtml).join("");
  $("claimed").innerHTML = q.claimed.map(entryHtml).join("");
  $("unclaimed-empty").hidden = q.unclaimed.length > 0;
  $("claimed-empty").hidden = q.claimed.length > 0;
  for (const li of document.querySelectorAll("ul.queue li")) li.onclick = () => openLead(li.dataset.lead);
}

async function openLead(id) {
  selected = id;
  const url = new URL(location.href);
  url.searchParams.set("lead", id);
  history.replaceState(null, "", url);
  for (const li of document.querySelectorAll("ul.queue li")) li.classList.toggle("active", li.dataset.lead === id);
  const v = await api("GET", "/v1/leads/" + encodeURIComponent(id));
  const p = v.lead.profile || {};
  const h = v.handoff || {};
  const me = claims().email || claims().sub;
  $("detail-empty").hidden = true;
  $("detail").hidden = false;
  $("lead-name").textContent = [p.firstName, p.lastName].filter(Boolean).join(" ") || v.lead.email;
  $("lead-sub").textContent = [p.title, p.company].filter(Boolean).join(" at ");
  const rows = [["Email", v.lead.email], ["Phone", p.phone], ["Company size", p.companySize], ["Country", p.country], ["Segment", v.lead.segment], ["Stage", v.lead.stage]];
  $("profile").innerHTML = rows.filter((r) => r[1] !== undefined && r[1] !== "").map((r) => "<tr><th>" + esc(r[0]) + "</th><td>" + esc(r[1]) + "</td></tr>").join("");
  if (v.score) {
    $("score").innerHTML = '<span class="badge score">' + esc(v.score.value) + "</span> against a threshold of " + esc(v.score.threshold) + (v.score.qualifiedAt ? ", qualified " + esc(when(v.score.qualifiedAt)) : "");
    $("reasons").innerHTML = v.score.reasons.map((r) => "<tr><td>" + esc(r.rule) + ' <span class="meta">(' + esc(r.category) + ")</span></td><td class=\\"points\\">" + (r.points > 0 ? "+" : "") + esc(r.points) + "</td></tr>").join("");
  } else {
    $("score").textContent = "Not scored yet.";
    $("reasons").innerHTML = "";
  }
  let status = "";
  if (h.closed) status = "Closed: " + h.closed.outcome + (h.closed.reason ? " (" + h.closed.reason + ")" : "") + " by " + h.closed.rep + ", " + when(h.closed.closedAt);
  else if (h.claimedBy) status = "Claimed by " + h.claimedBy + ", " + when(h.claimedAt);
  else if (h.rep) status = "Waiting in " + h.teamName + " for " + h.repName + " to claim by " + when(h.claimBy) + (h.escalated ? " (escalated)" : "");
  $("status").textContent = status;
  $("claim").hidden = Boolean(h.closed || h.claimedBy || !h.rep);
  $("outcome").hidden = Boolean(h.closed || !h.claimedBy || h.claimedBy !== me);
  $("timeline").innerHTML = v.timeline.map((a) => "<li><div>" + esc(a.summary) + '</div><div class="meta">' + esc(when(a.at)) + "</div></li>").join("");
}

function outcomeFields() {
  const outcome = $("outcome-kind").value;
  $("won-fields").hidden = outcome !== "won";
  $("reason-fields").hidden = outcome !== "lost" && outcome !== "disqualified" && !(outcome === "won" && REASONS.won.length > 0);
  $("recycle-fields").hidden = outcome !== "not-now";
  const codes = outcome === "lost" ? REASONS.lost : outcome === "won" ? REASONS.won : REASONS.disqualified;
  $("reason").innerHTML = '<option value="">Choose a reason…</option>' + codes.map((r) => '<option value="' + esc(r.code) + '">' + esc(r.label) + "</option>").join("");
}

async function refresh() {
  try {
    await loadQueue();
    if (selected) await openLead(selected);
  } catch (error) {
    banner("error", error.message);
  }
}

$("signin-form").onsubmit = (event) => {
  event.preventDefault();
  sessionStorage.setItem("leadloop.token", $("token").value.trim());
  start();
};
$("signout").onclick = () => signOut();
$("claim").onclick = async () => {
  try {
    await api("POST", "/v1/sales/leads/" + encodeURIComponent(selected) + "/claim");
    banner("ok", "Claimed. The lead is yours.");
    await refresh();
  } catch (error) {
    banner("error", error.message);
  }
};
$("outcome-kind").onchange = outcomeFields;
$("outcome").onsubmit = async (event) => {
  event.preventDefault();
  const outcome = $("outcome-kind").value;
  const body = { outcome };
  if (outcome === "won") { body.amount = Number($("amount").value); body.currency = $("currency").value; }
  if (outcome === "lost" || outcome === "disqualified" || (outcome === "won" && $("reason").value)) body.reason = $("reason").value;
  if (outcome === "not-now") body.recycleOn = $("recycle-on").value;
  const notes = {};
  if ($("went-well").value.trim()) notes.wentWell = $("went-well").value.trim();
  if ($("to-improve").value.trim()) notes.toImprove = $("to-improve").value.trim();
  if (Object.keys(notes).length > 0) body.notes = notes;
  try {
    await api("POST", "/v1/sales/leads/" + encodeURIComponent(selected) + "/outcome", body);
    banner("ok", "Outcome recorded: " + outcome + ". Marketing takes it from here.");
    await refresh();
  } catch (error) {
    banner("error", error.message);
  }
};

// A rep's verdict on the lead's quality goes to marketing (deal reviews, calibration).
for (const button of document.querySelectorAll("[data-verdict]")) {
  button.onclick = async () => {
    const verdict = button.dataset.verdict;
    const body = { verdict };
    if (verdict !== "good-fit") body.reason = $("quality-reason").value;
    try {
      await api("POST", "/v1/sales/leads/" + encodeURIComponent(selected) + "/quality", body);
      banner("ok", "Thanks: marked " + verdict + ". Marketing sees it in the deal reviews.");
      await refresh();
    } catch (error) {
      banner("error", error.message);
    }
  };
}
$("quality-reason").innerHTML = '<option value="">Reason (for bad fit or wrong contact)…</option>' + REASONS.quality.map((r) => '<option value="' + esc(r.code) + '">' + esc(r.label) + "</option>").join("");

function start() {
  if (!token()) return signOut();
  $("signin").hidden = true;
  $("app").hidden = false;
  banner("", "");
  refresh();
}
outcomeFields();
start();
`;

/** `now`: the server's clock (the stack's virtual clock locally), which says when a claim is late. */
export function salesPage(teams: Pick<TeamsFile, "lostReasons" | "disqualifiedReasons" | "wonReasons" | "qualityReasons">, now: Date) {
  const reasons = JSON.stringify({
    won: teams.wonReasons ?? [],
    lost: teams.lostReasons,
    disqualified: teams.disqualifiedReasons,
    quality: teams.qualityReasons ?? [],
  }).replace(/</g, "\\u003c");
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    ${raw(pageClockMeta(now))}
    <title>leadloop · Sales</title>
    <style>${raw(STYLE)}</style>
  </head>
  <body>
    <header>
      <h1>leadloop · Sales</h1>
      <span class="who" id="who"></span>
      <button id="signout" type="button">Sign out</button>
    </header>

    <section class="card" id="signin" hidden>
      <h2>Sign in</h2>
      <p>Paste your bearer token. On the local stack, <code>npm run token -- --rep you@example.com</code> prints one.</p>
      <p class="banner error" id="signin-error" hidden></p>
      <form id="signin-form">
        <textarea id="token" name="token" placeholder="eyJhbGciOi…" required></textarea>
        <p><button class="primary" type="submit">Sign in</button></p>
      </form>
    </section>

    <main id="app" hidden>
      <section class="card">
        <h2>Waiting to be claimed</h2>
        <p class="empty" id="unclaimed-empty">Nothing waiting in your teams' queues.</p>
        <ul class="queue" id="unclaimed"></ul>
        <h2>Claimed by you</h2>
        <p class="empty" id="claimed-empty">You hold no leads.</p>
        <ul class="queue" id="claimed"></ul>
      </section>

      <section class="card">
        <div class="banner" id="banner" hidden></div>
        <p class="empty" id="detail-empty">Pick a lead on the left.</p>
        <div id="detail" hidden>
          <h3 id="lead-name"></h3>
          <div class="meta" id="lead-sub"></div>
          <p id="status"></p>
          <p><button class="primary" id="claim" type="button" hidden>Claim this lead</button></p>

          <form class="outcome" id="outcome" hidden>
            <label for="outcome-kind">Outcome</label>
            <select id="outcome-kind">
              <option value="won">Won</option>
              <option value="lost">Lost</option>
              <option value="disqualified">Disqualified</option>
              <option value="not-now">Not now</option>
            </select>
            <span id="won-fields" style="display:contents">
              <label for="amount">Amount</label><input id="amount" type="number" min="0" step="any" placeholder="12000" />
              <label for="currency">Currency</label><input id="currency" maxlength="3" value="USD" />
            </span>
            <span id="reason-fields" style="display:contents" hidden>
              <label for="reason">Reason</label><select id="reason"></select>
            </span>
            <span id="recycle-fields" style="display:contents" hidden>
              <label for="recycle-on">Come back on</label><input id="recycle-on" type="date" />
            </span>
            <label for="went-well">What went well</label><textarea id="went-well" maxlength="2000"></textarea>
            <label for="to-improve">What to improve</label><textarea id="to-improve" maxlength="2000"></textarea>
            <span></span><span><button class="primary" type="submit">Record outcome</button></span>
          </form>

          <div class="quality" id="quality">
            <span>Lead quality:</span>
            <button type="button" data-verdict="good-fit">Good fit</button>
            <button type="button" data-verdict="bad-fit">Bad fit</button>
            <button type="button" data-verdict="wrong-contact">Wrong contact</button>
            <select id="quality-reason" aria-label="Quality reason"></select>
          </div>

          <h2>Profile</h2>
          <table id="profile"></table>
          <h2>Why this lead qualified</h2>
          <p id="score"></p>
          <table id="reasons"></table>
          <h2>Timeline</h2>
          <ol class="timeline" id="timeline"></ol>
        </div>
      </section>
    </main>
    <script>const REASONS = ${raw(reasons)};</script>
    <script>${raw(PAGE_CLOCK_SCRIPT)}${raw(SCRIPT)}</script>
  </body>
</html>`;
}
