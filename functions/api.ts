/**
 * The public HTTP API behind API Gateway (HTTP API, payload 2.0): capture, behaviour events,
 * unsubscribe and confirm, the routes a website and an email recipient reach. It carries only
 * what those routes run; the bearer-token routes are functions/staff-api.ts, behind the same API.
 */
import { createPublicApp } from "@leadloop/api/public-app";
import { publicAppDeps, publicHttpHandler } from "./lib/http-api";

// No public route sends email, so this function loads no SES client (and its role may not send).
export const handler = publicHttpHandler((runtime, early) => createPublicApp(publicAppDeps(runtime, early)));
