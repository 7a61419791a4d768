/**
 * Every HTML page the API serves (/sales, /reports, the unsubscribe and confirmation pages, the
 * local demo page) goes out with a strict Content-Security-Policy: scripts only from this origin
 * or inline by their SHA-256 (computed from the page as sent, so a page's script can change
 * without anyone updating a list), no framing, no plugins, forms posting only here. Injected
 * markup, if any ever slipped past escaping, could not run. Every response is `nosniff`.
 */
import { createHash } from "node:crypto";
import { createMiddleware } from "hono/factory";

const INLINE_SCRIPT = /<script(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi;

/** The CSP source of each inline script of the page. */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  for (const match of html.matchAll(INLINE_SCRIPT)) hashes.add(`'sha256-${createHash("sha256").update(match[1] ?? "").digest("base64")}'`);
  return [...hashes];
}

export function contentSecurityPolicy(html: string): string {
  return [
    "default-src 'none'",
    ["script-src 'self'", ...inlineScriptHashes(html)].join(" "),
    // Styles stay inline (style attributes and <style> blocks); they cannot run code.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function pageSecurity() {
  return createMiddleware(async (c, next) => {
    await next();
    c.res.headers.set("x-content-type-options", "nosniff");
    if (!(c.res.headers.get("content-type") ?? "").includes("text/html")) return;
    const html = await c.res.clone().text();
    c.res.headers.set("content-security-policy", contentSecurityPolicy(html));
    c.res.headers.set("x-frame-options", "DENY");
  });
}
