/**
 * Which web pages may post forms and events: the origins forms.yaml lists, and the API's own (the
 * demo page). A listed origin on a loopback host (http://localhost:3000) is a developer's; a
 * production stage is deployed with such origins refused, so config written for the local stack
 * opens nothing in production. `Origin: null` (sandboxed frames, file: pages, some redirects)
 * matches no listed origin and is refused like any unlisted one.
 */
import type { Context } from "hono";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isLocalOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const host = new URL(origin).hostname;
  return LOOPBACK_HOSTS.has(host) || host.endsWith(".localhost");
}

/** Whether `origin` may post, given the origins listed for it; `refuseLocal` on production stages. */
export function originListed(c: Context, listed: readonly string[], origin: string, refuseLocal: boolean): boolean {
  if (new URL(c.req.url).origin === origin) return true;
  return listed.some((o) => URL.canParse(o) && new URL(o).origin === origin && !(refuseLocal && isLocalOrigin(origin)));
}
