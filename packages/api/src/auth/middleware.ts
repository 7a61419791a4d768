/**
 * Guards a route with a bearer token: the handler runs only for a verified caller holding one of
 * the roles, and finds them in `c.get("principal")`. Refusals answer here as problem+json (401 or
 * 403 with a WWW-Authenticate challenge), so the route needs no error handling of its own.
 */
import { ForbiddenError, type Principal, type Role, requireRole, UnauthenticatedError } from "@leadloop/core";
import { createMiddleware } from "hono/factory";
import { problemResponse } from "../problem";
import type { Authenticate } from "./bearer";

export interface AuthVariables {
  principal: Principal;
}

/** For routers behind requireAuth: `new Hono<AuthEnv>()`. */
export interface AuthEnv {
  Variables: AuthVariables;
}

/** With no roles, any verified caller passes. */
export function requireAuth(authenticate: Authenticate, ...roles: Role[]) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    let principal: Principal;
    try {
      principal = await authenticate(c.req.header("authorization"));
      requireRole(principal, ...roles);
    } catch (error) {
      if (error instanceof UnauthenticatedError || error instanceof ForbiddenError) return problemResponse(c, error);
      throw error;
    }
    c.set("principal", principal);
    await next();
  });
}
