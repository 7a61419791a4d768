/** The page at `/` of the local stack: a real HTML form posting to the capture route. */
import type { Form } from "@leadloop/core";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

const inputType: Record<string, string> = {
  email: "email",
  number: "number",
  tel: "tel",
  url: "url",
  hidden: "hidden",
  text: "text",
  country: "text",
  timezone: "hidden",
};

function field(name: string, f: Form["fields"][string]): string {
  const label = esc(f.label ?? name);
  const req = f.required ? " required" : "";
  if (f.type === "hidden" || f.type === "timezone") {
    return `<input type="hidden" name="${esc(name)}"${name === "timezone" ? ' data-timezone=""' : ""}>`;
  }
  if (f.type === "select") {
    const options = (f.options ?? []).map((o) => `<option>${esc(o)}</option>`).join("");
    return `<label>${label}<select name="${esc(name)}"${req}><option value=""></option>${options}</select></label>`;
  }
  if (f.type === "textarea") return `<label>${label}<textarea name="${esc(name)}"${req}></textarea></label>`;
  if (f.type === "checkbox") return `<label class="check"><input type="checkbox" name="${esc(name)}"> ${label}</label>`;
  const extra = f.type === "country" ? ' maxlength="2" placeholder="US"' : "";
  return `<label>${label}<input type="${inputType[f.type] ?? "text"}" name="${esc(name)}"${req}${extra}></label>`;
}

/** `emailViewer`: the SES emulator's page, which shows every email sent as a mailbox would. */
export function demoPage(forms: Record<string, Form>, formId: string, error?: string, emailViewer?: string): string {
  const form = forms[formId];
  if (!form) return "<!doctype html><p>No such form.</p>";
  const tabs = Object.entries(forms)
    .map(([id, f]) => `<a href="/?form=${esc(id)}"${id === formId ? ' class="on"' : ""}>${esc(f.name)}</a>`)
    .join("");
  const fields = Object.entries(form.fields).map(([name, f]) => field(name, f)).join("\n");
  const consent = form.consent
    ? `<label class="check"><input type="checkbox" name="consent"${form.consent.required ? " required" : ""}> ${esc(form.consent.text)}</label>`
    : "";
  const honeypot = form.honeypot
    ? `<div class="hp" aria-hidden="true"><label>Leave empty<input name="${esc(form.honeypot)}" tabindex="-1" autocomplete="off"></label></div>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>leadloop — ${esc(form.name)}</title>
<style>
  body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f6fb;color:#1d2433;margin:0}
  header{background:#1f3a8a;color:#fff;padding:18px 32px}header h1{margin:0;font-size:20px}
  header p{margin:4px 0 0;opacity:.8;font-size:14px}
  main{max-width:560px;margin:32px auto;background:#fff;border-radius:12px;box-shadow:0 4px 24px #1f3a8a1a;padding:28px 32px}
  nav{display:flex;gap:8px;margin-bottom:20px;flex-wrap:wrap}nav a{padding:6px 12px;border-radius:999px;background:#eef2ff;color:#1f3a8a;text-decoration:none;font-size:14px}
  nav a.on{background:#1f3a8a;color:#fff}
  label{display:block;font-size:14px;font-weight:600;margin:12px 0 4px}
  input,select,textarea{display:block;width:100%;box-sizing:border-box;margin-top:4px;padding:9px 11px;border:1px solid #cbd2e1;border-radius:8px;font:inherit}
  label.check{font-weight:400;display:flex;gap:8px;align-items:flex-start}label.check input{width:auto;margin-top:3px}
  button{margin-top:20px;background:#1f3a8a;color:#fff;border:0;border-radius:8px;padding:11px 20px;font-size:15px;cursor:pointer}
  .error{background:#fde8e8;color:#8a1f1f;padding:10px 12px;border-radius:8px}
  .hp{position:absolute;left:-10000px}
  footer{text-align:center;font-size:13px;color:#66708a;margin-bottom:32px}footer a{color:#1f3a8a}
</style></head>
<body>
<header><h1>leadloop local stack</h1><p>Submit a form: the lead is stored, segmented and routed into its nurture sequence.</p></header>
<main>
<nav>${tabs}</nav>
<h2>${esc(form.name)}</h2>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ""}
<form method="post" action="/v1/forms/${esc(formId)}/submissions">
${fields}
${consent}
${honeypot}
<button type="submit">Send</button>
</form>
</main>
<footer>Emails sent: <a href="/dev/emails">/dev/emails</a>${emailViewer ? ` · <a href="${esc(emailViewer)}" id="email-viewer">email viewer</a>` : ""} · <a href="/preview">preview</a> · <a href="/health">/health</a></footer>
<script>for(const el of document.querySelectorAll('[data-timezone]'))el.value=Intl.DateTimeFormat().resolvedOptions().timeZone;</script>
</body></html>`;
}
