/**
 * The HTTP API as one hono app: every route, public and staff, as the local stack serves it from
 * one process. In AWS the same routes run as three functions behind the same HTTP API
 * (functions/api.ts with public-app.ts, functions/staff-api.ts and functions/reports-api.ts with
 * staff-app.ts); only the adapters behind them differ.
 */
import type { Hono } from "hono";
import { appShell } from "./app-shell";
import { mountPublicRoutes } from "./public-app";
import { mountReportRoutes, mountStaffRoutes, type StaffAppDeps } from "./staff-app";

export type { AppLogger, PublicAppDeps } from "./app-shell";
export type { StaffAppDeps } from "./staff-app";

export type AppDeps = StaffAppDeps;

export function createApp(deps: AppDeps): Hono {
  return appShell(deps.log, (app) => {
    mountPublicRoutes(app, deps);
    mountStaffRoutes(app, deps);
    mountReportRoutes(app, deps);
  });
}
