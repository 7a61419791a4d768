/** Small server-rendered pages for people who follow links from emails. */

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)}</title>
<style>body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f6fb;color:#1d2433;margin:0}
main{max-width:520px;margin:64px auto;background:#fff;border-radius:12px;box-shadow:0 4px 24px #1f3a8a1a;padding:28px 32px}
h1{font-size:22px;margin-top:0}button{background:#1f3a8a;color:#fff;border:0;border-radius:8px;padding:11px 20px;font-size:15px;cursor:pointer}
.muted{color:#66708a;font-size:14px}</style></head>
<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

export { esc };
