/**
 * Data operations, for admins only: bulk import of leads through the capture path
 * (`npm run import` posts here), and the GDPR routes, erase (`DELETE /v1/leads/{id}`) and
 * export (`GET /v1/leads/{id}/export`).
 */
import {
  type DataOpsDeps,
  eraseLead,
  exportLead,
  importRows,
  MAX_IMPORT_BATCH,
  UnauthenticatedError,
} from "@leadloop/core";
import { Hono } from "hono";
import * as z from "@leadloop/core/zod-mini";
import type { AppDeps } from "./app";
import type { Authenticate } from "./auth/bearer";
import { type AuthEnv, requireAuth } from "./auth/middleware";
import { HttpProblem } from "./problem";

export const ImportRequest = z.strictObject({
  headers: z.array(z.string().check(z.maxLength(200))).check(z.minLength(1), z.maxLength(200)),
  rows: z
    .array(
      z.strictObject({
        row: z.number().check(z.int(), z.positive()),
        values: z.array(z.string().check(z.maxLength(10_000))).check(z.maxLength(200)),
      }),
    )
    .check(z.maxLength(MAX_IMPORT_BATCH, `at most ${MAX_IMPORT_BATCH} rows per request; send the file in batches`)),
  dryRun: z._default(z.boolean(), false),
  /** The header of a column that identifies each row (a CRM id); without it a row's content is its key. */
  keyColumn: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(200))),
});
export type ImportRequest = z.infer<typeof ImportRequest>;

/** Without a configured verifier, every admin route refuses: data operations never run unauthenticated. */
const refuseAll: Authenticate = async () => {
  throw new UnauthenticatedError("missing", "Bearer-token verification is not configured on this deployment, so admin routes are closed.");
};

function unavailable(): never {
  throw new HttpProblem(503, "unavailable", "Not available", "This deployment has no lead-record store configured for data operations.");
}

export function dataRoutes(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const admin = requireAuth(deps.authenticate ?? refuseAll, "admin");
  const dataOps = (): DataOpsDeps => ({ config: deps.config, leads: deps.leads, records: deps.records ?? unavailable(), clock: deps.clock });

  app.post("/v1/forms/:formId/imports", admin, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new HttpProblem(400, "malformed", "Not JSON", "Send the batch as JSON: {\"headers\": [...], \"rows\": [{\"row\": 2, \"values\": [...]}]}.");
    }
    const parsed = ImportRequest.safeParse(body);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((issue) => ({ field: issue.path.join(".") || "body", message: issue.message }));
      throw new HttpProblem(422, "validation", "Not a valid import batch", errors.map((e) => `${e.field}: ${e.message}`).join("; "), {}, { errors });
    }
    const formId = c.req.param("formId");
    const { mapping, results } = await importRows(deps, { formId, ...parsed.data });
    return c.json({
      formId,
      dryRun: parsed.data.dryRun,
      unknownColumns: mapping.unknown,
      duplicateColumns: mapping.duplicate,
      missingColumns: mapping.missing,
      ...(parsed.data.keyColumn !== undefined ? { keyColumn: parsed.data.keyColumn } : {}),
      results,
    });
  });

  app.delete("/v1/leads/:id", admin, async (c) => {
    await eraseLead(dataOps(), c.req.param("id"));
    return c.body(null, 204);
  });

  app.get("/v1/leads/:id/export", admin, async (c) => {
    const data = await exportLead(dataOps(), c.req.param("id"));
    c.header("content-disposition", `attachment; filename="lead-${data.lead.id}.json"`);
    return c.json(data);
  });

  return app;
}
