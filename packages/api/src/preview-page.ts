/**
 * The /preview page: every email the config can send listed on the left; the chosen one rendered
 * for a sample lead (from a form's fields) or a real lead id, with the headers a mailbox sees,
 * its HTML in a sandboxed iframe (`srcdoc`, `sandbox=""`: no script, no navigation, no cookies)
 * beside its text part; a test send to any address; and for a broadcast, a dry run that counts
 * who would get it now and why the rest would not. It calls GET /v1/preview/emails,
 * GET /v1/preview/email, POST /v1/preview/test-send and POST /v1/broadcasts/{id}/dry-run.
 */
import { SHELL_SCRIPT, SHELL_STYLE, SIGNIN } from "./marketing-shell";

const STYLE = `
.layout{display:grid;grid-template-columns:300px minmax(0,1fr);gap:16px;align-items:start}
#items button{display:block;width:100%;text-align:left;background:none;color:#1d2433;padding:6px 8px;border-radius:6px;font-size:13px}
#items button:hover{background:#eef1f6}#items button[aria-current=true]{background:#1f3a8a;color:#fff}
#items h3{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#66708a;margin:12px 0 4px}
.controls{display:flex;gap:12px;flex-wrap:wrap;align-items:end;margin-bottom:14px}
table.headers{width:100%;border-collapse:collapse;font-size:13px}table.headers th{text-align:left;color:#66708a;width:190px;padding:5px 8px;vertical-align:top;font-weight:600}
table.headers td{padding:5px 8px;word-break:break-all;font-family:ui-monospace,monospace}
.parts{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px;margin-top:14px}
iframe{width:100%;height:560px;border:1px solid #cfd6e4;border-radius:8px;background:#fff}
pre#text{white-space:pre-wrap;font-size:13px;background:#f8f9fc;border:1px solid #cfd6e4;border-radius:8px;padding:12px;height:560px;overflow:auto;margin:0}
#test{display:flex;gap:10px;align-items:end;margin-top:14px;flex-wrap:wrap}
#dry[hidden]{display:none}#dry{display:flex;gap:12px;align-items:center;margin:10px 0;flex-wrap:wrap;background:#f8f9fc;border:1px solid #cfd6e4;border-radius:8px;padding:10px 12px}
`;

const SCRIPT = `
let current = params.get("item") || "";
const BROADCAST = "broadcast:";
async function start() {
  try {
    const list = await api("/v1/preview/emails");
    const forms = $("form");
    forms.replaceChildren(...list.forms.map((f) => el("option", { value: f.id, text: f.name + " (" + f.id + ")" })));
    const groups = { step: "Sequence steps", "follow-up": "Form follow-ups", broadcast: "Broadcasts" };
    const nodes = [];
    for (const [kind, title] of Object.entries(groups)) {
      const items = list.items.filter((i) => i.kind === kind);
      if (items.length === 0) continue;
      nodes.push(el("h3", { text: title }));
      for (const item of items) {
        const b = el("button", { type: "button", text: item.label, title: item.subject, "data-item": item.id });
        b.addEventListener("click", () => { current = item.id; render(); });
        nodes.push(b);
      }
    }
    $("items").replaceChildren(...nodes);
    document.body.dataset.loaded = "true";
    if (!current && list.items[0]) current = list.items[0].id;
    if (current) await render();
  } catch (error) { $("error").textContent = error.message; }
}
function renderQuery() {
  const q = new URLSearchParams({ item: current });
  const leadId = $("lead-id").value.trim();
  if (leadId) q.set("leadId", leadId); else q.set("form", $("form").value);
  return q;
}
async function render() {
  $("error").textContent = "";
  $("dry").hidden = !current.startsWith(BROADCAST);
  $("audience").textContent = "";
  for (const b of document.querySelectorAll("#items button")) b.setAttribute("aria-current", String(b.dataset.item === current));
  try {
    const body = await api("/v1/preview/email?" + renderQuery());
    const e = body.email;
    $("title").textContent = body.item.label;
    $("for").textContent = body.lead.source === "lead" ? "Rendered for lead " + $("lead-id").value.trim() + " (segment " + body.lead.segment + ")" + (body.lead.notSentBecause ? ". The sweeper would not send it to this lead: " + body.lead.notSentBecause + "." : "") : "Rendered for a sample lead from the form (segment " + body.lead.segment + ")";
    const rows = [["From", e.from], ["To", e.to], ["Subject", e.subject]].concat(Object.entries(e.headers));
    $("headers").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v, "data-header": k }))));
    $("html").srcdoc = e.html;
    $("text").textContent = e.text;
    document.body.dataset.rendered = body.item.id;
  } catch (error) { $("error").textContent = error.message; }
}
document.addEventListener("DOMContentLoaded", () => {
  $("render").addEventListener("click", () => render());
  $("dry-run").addEventListener("click", async () => {
    const id = current.slice(BROADCAST.length);
    $("audience").className = "";
    $("audience").textContent = "Counting…";
    delete document.body.dataset.dryRun;
    try {
      const r = await api("/v1/broadcasts/" + encodeURIComponent(id) + "/dry-run", { method: "POST" });
      const reasons = Object.entries(r.excluded).map(([why, n]) => n + " " + why).join(", ");
      $("audience").textContent = r.recipients + (r.recipients === 1 ? " recipient" : " recipients") + " if sent now" + (reasons ? "; not sent to " + reasons : "") + " (" + r.scanned + " leads read).";
      $("audience").dataset.recipients = String(r.recipients);
      document.body.dataset.dryRun = id;
    } catch (error) { $("audience").className = "error"; $("audience").textContent = error.message; }
  });
  $("test").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("sent").textContent = "";
    $("sent").className = "ok";
    try {
      const q = renderQuery();
      const payload = { item: current, to: $("to").value.trim() };
      if (q.get("leadId")) payload.leadId = q.get("leadId"); else payload.form = q.get("form");
      const res = await api("/v1/preview/test-send", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
      $("sent").textContent = "Test sent to " + res.to + ": " + res.subject;
    } catch (error) { $("sent").className = "error"; $("sent").textContent = error.message; }
  });
});
`;

export function previewPage(options: { open: boolean }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Email preview · leadloop</title>
<style>${SHELL_STYLE}${STYLE}</style></head>
<body>
<header><h1>Email preview</h1><a href="/journeys">Journeys</a><a href="/reports">Reports</a></header>
<main>
${SIGNIN}
<div id="app">
<div class="layout">
<nav class="card" id="items" aria-label="emails"></nav>
<section>
<div class="card">
<div class="controls">
<label>Sample lead from form<select id="form"></select></label>
<label>or a real lead id<input id="lead-id" placeholder="lead id" size="34" autocomplete="off"></label>
<button id="render" type="button">Render</button>
</div>
<h2 id="title"></h2><p class="muted" id="for"></p>
<div id="dry" hidden><button id="dry-run" type="button">Dry run</button><span id="audience" role="status"></span><span class="muted">Counts the audience through the send's own checks (consent, confirmation, suppression, frequency cap); sends nothing.</span></div>
<p id="error" class="error"></p>
<table class="headers"><tbody id="headers"></tbody></table>
<div class="parts">
<div><h2>HTML</h2><iframe id="html" sandbox="" title="HTML part" referrerpolicy="no-referrer"></iframe></div>
<div><h2>Text</h2><pre id="text"></pre></div>
</div>
<form id="test"><label>Send a test to<input id="to" type="email" required placeholder="you@example.com" size="30"></label><button>Send test</button><span id="sent" role="status"></span></form>
<p class="muted">A test goes through the same mailer, marked "[Test]"; it is not the lead's email, counts in no report, and its unsubscribe link unsubscribes nobody.</p>
</div>
</section>
</div>
</div>
</main>
<script>${SHELL_SCRIPT(options.open)}${SCRIPT}</script>
</body></html>`;
}
