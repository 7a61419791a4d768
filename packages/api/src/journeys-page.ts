/**
 * The /journeys page: each sequence drawn left to right — how leads get in (the segment rule),
 * each step with its delay, subject and condition, and how many leads wait there now — with the
 * send window, the exits and the frequency cap beneath. It calls GET /v1/journeys.
 */
import { SHELL_SCRIPT, SHELL_STYLE, SIGNIN } from "./marketing-shell";

const STYLE = `
.journey{margin-bottom:18px}.journey h2{font-size:17px}
.flow{display:flex;align-items:stretch;gap:0;overflow-x:auto;padding:6px 0 10px}
.node{flex:0 0 auto;width:184px;border:1px solid #cfd6e4;border-radius:10px;padding:10px 12px;background:#fff;font-size:13px}
.node.entry{background:#eef3ff;border-color:#1f3a8a55}.node.exit{background:#f6f7f9}
.node .kind{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#66708a}
.node .name{font-weight:650;margin:2px 0 4px;word-break:break-word}
.node .count{font-size:22px;font-weight:700;color:#1f3a8a}.node .cond{color:#8a5a00;font-size:12px;margin-top:4px}
.edge{flex:0 0 auto;display:flex;flex-direction:column;justify-content:center;align-items:center;width:64px;font-size:11px;color:#66708a}
.edge::after{content:"";display:block;width:50px;height:2px;background:#9aa6bf;margin-top:3px}
.facts{display:flex;gap:24px;flex-wrap:wrap;font-size:13px;margin-top:6px}.facts b{color:#66708a;font-weight:600}
`;

const SCRIPT = `
const DURATION = /^P(?:(\\d+)W)?(?:(\\d+)D)?(?:T(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+)S)?)?$/;
function words(iso) {
  const m = DURATION.exec(iso);
  if (!m) return iso;
  const names = ["week", "day", "hour", "minute", "second"];
  const parts = m.slice(1).map((v, i) => (v ? v + " " + names[i] + (v === "1" ? "" : "s") : null)).filter(Boolean);
  return parts.length ? parts.join(" ") : "at once";
}
function node(cls, kind, name, extra) {
  return el("div", { class: "node " + cls }, el("div", { class: "kind", text: kind }), el("div", { class: "name", text: name }), ...extra);
}
async function start() {
  try {
    const { journeys } = await api("/v1/journeys");
    $("journeys").replaceChildren(...journeys.map((j) => {
      const entryText = j.entry.position ? "segment " + j.segment + " (rule " + j.entry.position + " of segments.yaml): " + j.entry.rule : "segment " + j.segment + ": " + j.entry.rule;
      const flow = [node("entry", "enters when", entryText, [])];
      for (const s of j.steps) {
        flow.push(el("div", { class: "edge", text: "wait " + words(s.delay) }));
        flow.push(node("step", "step", s.id, [
          el("div", { class: "muted", text: s.subject }),
          el("div", { class: "count", text: String(s.waiting), "data-waiting": s.id }),
          el("div", { class: "muted", text: s.waiting === 1 ? "lead waiting" : "leads waiting" }),
          s.condition ? el("div", { class: "cond", text: s.condition }) : null,
        ]));
      }
      flow.push(el("div", { class: "edge", text: "then" }));
      flow.push(node("exit", "ends", "after the last step, or on " + j.exitOn.join(", "), []));
      const w = j.sendWindow;
      const facts = el("div", { class: "facts" },
        el("span", {}, el("b", { text: "Send window " }), w.days.join(", ") + " " + w.start + "–" + w.end + " in the lead's time zone (else " + w.timezone + ")"),
        el("span", {}, el("b", { text: "Frequency cap " }), j.frequencyCap ? j.frequencyCap.max + " per " + words(j.frequencyCap.per) + " across sequences" : "none"),
        el("span", {}, el("b", { text: "Re-enrolment " }), j.reenrollAfter ? "after " + words(j.reenrollAfter) : "never"),
        el("span", {}, el("b", { text: "In this sequence now " }), el("span", { text: String(j.total), "data-total": j.id })),
        j.waitingElsewhere > 0 ? el("span", { class: "error", text: j.waitingElsewhere + " waiting at steps no longer in the config" }) : null,
      );
      return el("section", { class: "card journey", "data-sequence": j.id }, el("h2", { text: j.name + " (" + j.id + ")" }), el("div", { class: "flow" }, ...flow), facts);
    }));
    document.body.dataset.loaded = "true";
  } catch (error) { $("error").textContent = error.message; }
}
`;

export function journeysPage(options: { open: boolean }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Journeys · leadloop</title>
<style>${SHELL_STYLE}${STYLE}</style></head>
<body>
<header><h1>Journeys</h1><a href="/preview">Email preview</a><a href="/reports">Reports</a></header>
<main>
${SIGNIN}
<div id="app"><p id="error" class="error"></p><div id="journeys"></div>
<p class="muted">Counts are leads whose next step is that step, read from the due index when this page loads.</p></div>
</main>
<script>${SHELL_SCRIPT(options.open)}${SCRIPT}</script>
</body></html>`;
}
