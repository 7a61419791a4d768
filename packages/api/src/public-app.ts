/**
 * The routes anyone may call: a website's form posts and behaviour events, and the unsubscribe
 * and confirmation links in emails. In AWS they are their own function (functions/api.ts), so the
 * function a website wakes carries only what these routes run; locally they are part of app.ts.
 */
import type { Hono } from "hono";
import { appShell, type PublicAppDeps } from "./app-shell";
import { captureRoutes } from "./capture-routes";
import { eventsRoutes } from "./events-routes";
import { nurtureRoutes } from "./nurture-routes";

export function mountPublicRoutes(app: Hono, deps: PublicAppDeps): void {
  app.route("/", captureRoutes(deps));
  app.route("/", eventsRoutes(deps));
  app.route("/", nurtureRoutes(deps));
}

export function createPublicApp(deps: PublicAppDeps): Hono {
  return appShell(deps.log, (app) => mountPublicRoutes(app, deps));
}
