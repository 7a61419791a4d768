/**
 * The shell the marketing tools' pages share (/preview, /journeys): styles, and a script that
 * calls the JSON API with the bearer token (pasted once or arriving as `?token=`, kept in
 * sessionStorage like /reports and /sales) and asks for one again on a 401 or 403. The local
 * stack opens these routes to anyone, so there the page never asks. Pages fill themselves with
 * textContent only: nothing a visitor typed is ever parsed as markup.
 */

export const SHELL_STYLE = `
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f6fb;color:#1d2433;margin:0}
header{background:#1f3a8a;color:#fff;padding:14px 28px;display:flex;align-items:center;gap:20px;flex-wrap:wrap}
header h1{font-size:20px;margin:0;flex:1}header a{color:#fff;opacity:.85;font-size:14px}
main{max-width:1400px;margin:0 auto;padding:20px 28px 48px}
label{display:flex;flex-direction:column;font-size:12px;color:#66708a;gap:4px}
input,select,textarea{font:inherit;font-size:14px;padding:7px 9px;border:1px solid #cfd6e4;border-radius:8px;background:#fff;color:#1d2433}
button{font:inherit;font-size:14px;background:#1f3a8a;color:#fff;border:0;border-radius:8px;padding:9px 16px;cursor:pointer}
.card{background:#fff;border-radius:12px;padding:16px 18px;box-shadow:0 2px 12px #1f3a8a14;min-width:0}
.card h2{font-size:15px;margin:0 0 10px}
.muted{color:#66708a;font-size:13px}.error{color:#b42318;font-weight:600}.ok{color:#2f7d4f;font-weight:600}
#signin{max-width:560px;margin:48px auto}#signin textarea{width:100%;height:90px}
`;

export const SHELL_SCRIPT = (open: boolean) => `
const OPEN = ${open ? "true" : "false"};
const TOKEN_KEY = "leadloop.token";
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
if (params.get("token")) {
  sessionStorage.setItem(TOKEN_KEY, params.get("token"));
  params.delete("token");
  history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
}
const token = () => sessionStorage.getItem(TOKEN_KEY);
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}
function showSignin(message) {
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
}
async function api(path, init) {
  if (!OPEN && !token()) { showSignin(); throw new Error("signed out"); }
  const headers = Object.assign({}, (init && init.headers) || {});
  if (token()) headers.authorization = "Bearer " + token();
  const res = await fetch(path, Object.assign({}, init, { headers }));
  const body = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 403) {
    if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
    showSignin(body.detail);
    throw new Error(body.detail || "not allowed");
  }
  if (!res.ok) throw new Error(body.detail || ("The request failed (" + res.status + ")."));
  return body;
}
document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("signin-token").value.trim());
    $("signin").hidden = true;
    $("app").hidden = false;
    start();
  });
  if (!OPEN && !token()) return showSignin();
  start();
});
`;

export const SIGNIN = `<section id="signin" class="card" hidden>
<h2>Sign in</h2><p class="muted">Paste a bearer token with the marketing role.</p>
<form id="signin-form"><textarea id="signin-token" aria-label="token"></textarea><p><button>Sign in</button></p></form>
<p id="signin-error" class="error"></p></section>`;
