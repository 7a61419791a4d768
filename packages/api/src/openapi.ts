/**
 * The OpenAPI 3.1 document, served at `/openapi.json` by the same app locally and in AWS. Request
 * bodies, the problem+json error shape and the webhook payloads are generated (`z.toJSONSchema`)
 * from the zod schemas the routes and handlers validate with, so the contract cannot drift from
 * the code; each form's submission body comes from that form's fields in config/forms.yaml. A
 * test walks the app's mounted routes and fails for any route missing here.
 */
import {
  AdjustmentInput,
  ApiKeyRequest,
  RedemptionInput,
  RefundInput,
  type LeadloopConfig,
  OutcomeRequest,
  QualityRequest,
  PurchaseInput,
  type Role,
  SiteEvent,
  submissionSchema,
  TestSendRequest,
  webhookBodySchema,
  SIGNATURE_HEADER,
  DELIVERY_HEADER,
  EVENT_HEADER,
} from "@leadloop/core";
import { WEBHOOK_EVENTS } from "@leadloop/core/event-names";
import * as z from "@leadloop/core/zod-mini";
import { $ZodType } from "zod/v4/core";
import { ImportRequest } from "./data-routes";

/**
 * The problem+json shape every error answer has (problem.ts's `Problem`): here, not beside it, so
 * the public API function, which answers problems but serves no document, carries no classic zod.
 */
const ProblemDetails = z.looseObject({
  type: z.string().check(z.describe("urn:leadloop:problem:<slug>")),
  title: z.string(),
  status: z.number().check(z.int()),
  detail: z.string().check(z.describe("what went wrong and what to do, for a person")),
  errors: z.optional(z.array(z.object({ field: z.string(), message: z.string() }))).check(z.describe("422: each field at fault")),
});

type Method = "get" | "post" | "delete" | "options";

interface Operation {
  method: Method;
  /** OpenAPI path, `{param}` style. */
  path: string;
  summary: string;
  /** Undefined: public. Otherwise the roles any of which the bearer JWT or API key must carry. */
  roles?: Role[];
  body?: $ZodType | { [mediaType: string]: $ZodType };
  /** The success answer: status → description (and a schema when the body has a fixed shape). */
  ok: Record<number, string | { description: string; schema?: $ZodType; mediaType?: string }>;
  /** Error statuses the route answers with problem+json besides the auth ones. */
  errors?: number[];
  query?: string[];
}

const json = (schema: $ZodType) => ({ "application/json": schema });

function operations(config: LeadloopConfig): Operation[] {
  const forms = Object.entries(config.forms);
  const submission = z.union(forms.map(([id, form]) => submissionSchema(form).register(z.globalRegistry, { title: `${id} form` })) as unknown as [z.ZodMiniType, z.ZodMiniType]);
  const REP: Role[] = ["rep", "admin"];
  const MKT: Role[] = ["marketing", "admin"];
  const ADMIN: Role[] = ["admin"];
  return [
    { method: "get", path: "/health", summary: "Liveness", ok: { 200: "ok" } },
    { method: "get", path: "/openapi.json", summary: "This document", ok: { 200: "the OpenAPI 3.1 document" } },
    {
      method: "post",
      path: "/v1/forms/{formId}/submissions",
      summary: "Submit a form: 202 {leadId} for JSON clients, 303 to the thank-you page for browser posts",
      body: { "application/json": submission, "application/x-www-form-urlencoded": submission, "multipart/form-data": submission },
      ok: { 202: "stored (or a honeypot hit: nothing stored)", 303: "browser form post: redirect to the form's thank-you URL" },
      errors: [400, 403, 404, 413, 415, 422, 429],
    },
    { method: "options", path: "/v1/forms/{formId}/submissions", summary: "CORS preflight for the form's allowed origins", ok: { 204: "allowed" }, errors: [403] },
    { method: "post", path: "/v1/events", summary: "A behaviour event of a known lead (its lead token)", body: json(SiteEvent), ok: { 202: "recorded" }, errors: [400, 401, 403, 413, 422, 429] },
    { method: "options", path: "/v1/events", summary: "CORS preflight", ok: { 204: "allowed" }, errors: [403] },
    { method: "get", path: "/v1/unsubscribe", summary: "Unsubscribe confirmation page (signed token)", query: ["token"], ok: { 200: { description: "HTML page", mediaType: "text/html" } }, errors: [400] },
    { method: "post", path: "/v1/unsubscribe", summary: "RFC 8058 one-click unsubscribe", query: ["token"], ok: { 200: "suppressed" }, errors: [400] },
    { method: "get", path: "/v1/confirm", summary: "Double opt-in confirmation page", query: ["token"], ok: { 200: { description: "HTML page", mediaType: "text/html" } }, errors: [400] },
    { method: "post", path: "/v1/confirm", summary: "Confirm a double opt-in", query: ["token"], ok: { 200: "confirmed", 303: "to the confirmation page" }, errors: [400] },
    { method: "get", path: "/sales", summary: "The reps' page", ok: { 200: { description: "HTML page", mediaType: "text/html" } } },
    { method: "get", path: "/v1/sales/queue", summary: "The caller's team queue and claims", roles: REP, ok: { 200: "queue" } },
    { method: "post", path: "/v1/sales/leads/{id}/claim", summary: "Claim a lead (409 if another rep holds it)", roles: REP, ok: { 200: "claimed" }, errors: [404, 409] },
    { method: "post", path: "/v1/sales/leads/{id}/outcome", summary: "Record how the deal ended", roles: REP, body: json(OutcomeRequest), ok: { 200: "recorded" }, errors: [400, 404, 409, 422] },
    { method: "post", path: "/v1/sales/leads/{id}/quality", summary: "Flag a lead's quality", roles: REP, body: json(QualityRequest), ok: { 200: "recorded" }, errors: [400, 404, 422] },
    { method: "get", path: "/v1/leads/{id}", summary: "A lead and its timeline", roles: ["rep", "marketing", "admin"], ok: { 200: "lead" }, errors: [404] },
    { method: "get", path: "/v1/reports/funnel", summary: "Cradle-to-grave funnel", roles: MKT, query: ["from", "to", "segment", "source", "form", "sequence"], ok: { 200: "report" }, errors: [422] },
    { method: "get", path: "/v1/reports/cohorts", summary: "Cohorts by capture period", roles: MKT, ok: { 200: "report" }, errors: [422] },
    { method: "get", path: "/v1/reports/reviews", summary: "Deal reviews", roles: MKT, ok: { 200: "reviews" }, errors: [422] },
    { method: "get", path: "/v1/reports/reviews/{leadId}/{closedAt}", summary: "One deal review", roles: MKT, ok: { 200: "review" }, errors: [404] },
    { method: "get", path: "/v1/reports/calibration", summary: "Scoring calibration from closed deals", roles: MKT, ok: { 200: "calibration" }, errors: [422] },
    { method: "get", path: "/v1/reports/ab-tests", summary: "A/B tests of sequence steps: each variant's figures", roles: MKT, ok: { 200: "report" } },
    { method: "get", path: "/v1/reports/retention", summary: "Customers' retention: purchases, points, tiers", roles: MKT, ok: { 200: "report" }, errors: [422] },
    { method: "get", path: "/reports", summary: "The reports page", ok: { 200: { description: "HTML page", mediaType: "text/html" } } },
    { method: "get", path: "/assets/chart.umd.js", summary: "Chart.js for the reports page", ok: { 200: { description: "JavaScript", mediaType: "text/javascript" } } },
    {
      method: "post",
      path: "/v1/customers/{id}/purchases",
      summary: "Book a purchase for points, once per purchaseId (201 first time, 200 on a retry)",
      roles: ["integration", "admin"],
      body: json(PurchaseInput),
      ok: { 201: "booked", 200: "already booked: the first answer" },
      errors: [400, 404, 409, 413, 422, 503],
    },
    {
      method: "post",
      path: "/v1/customers/{id}/redemptions",
      summary: "Spend points on a catalogue reward, once per redemptionId (409 when the balance is short)",
      roles: ["integration", "admin"],
      body: json(RedemptionInput),
      ok: { 201: "redeemed", 200: "already redeemed: the first answer" },
      errors: [400, 404, 409, 413, 422, 503],
    },
    {
      method: "post",
      path: "/v1/customers/{id}/purchases/{purchaseId}/refund",
      summary: "Take back what a purchase earned, once",
      roles: ["integration", "admin"],
      body: json(RefundInput),
      ok: { 201: "refunded", 200: "already refunded: the first answer" },
      errors: [400, 404, 409, 413, 422, 503],
    },
    {
      method: "post",
      path: "/v1/customers/{id}/purchases/{purchaseId}/adjustments",
      summary: "Correct a purchase's points",
      roles: ["integration", "admin"],
      body: json(AdjustmentInput),
      ok: { 201: "adjusted", 200: "already adjusted: the first answer" },
      errors: [400, 404, 409, 413, 422, 503],
    },
    { method: "get", path: "/v1/customers/{id}/points", summary: "Balance, tier and ledger", roles: ["integration", "admin", "marketing"], ok: { 200: "points" }, errors: [404, 503] },
    { method: "post", path: "/v1/forms/{formId}/imports", summary: "Import a CSV batch through the capture path (idempotent)", roles: ADMIN, body: json(ImportRequest), ok: { 200: "per-row results" }, errors: [400, 404, 422] },
    { method: "delete", path: "/v1/leads/{id}", summary: "GDPR erase", roles: ADMIN, ok: { 204: "erased" }, errors: [503] },
    { method: "get", path: "/v1/leads/{id}/export", summary: "GDPR export", roles: ADMIN, ok: { 200: "everything held about the lead" }, errors: [404, 503] },
    { method: "get", path: "/v1/preview/emails", summary: "Every email marketing can preview", roles: MKT, ok: { 200: "list" } },
    { method: "get", path: "/v1/preview/email", summary: "One email rendered for a sample or real lead", roles: MKT, query: ["item", "leadId", "form"], ok: { 200: "rendered" }, errors: [404, 422] },
    { method: "post", path: "/v1/preview/test-send", summary: "Send a previewed email to an address", roles: MKT, body: json(TestSendRequest), ok: { 202: "sent" }, errors: [400, 404, 422] },
    { method: "get", path: "/v1/journeys", summary: "Each sequence with leads per step", roles: MKT, ok: { 200: "journeys" } },
    { method: "get", path: "/preview", summary: "The preview page", ok: { 200: { description: "HTML page", mediaType: "text/html" } } },
    { method: "get", path: "/journeys", summary: "The journeys page", ok: { 200: { description: "HTML page", mediaType: "text/html" } } },
    { method: "get", path: "/v1/broadcasts", summary: "Broadcasts and their progress", roles: MKT, ok: { 200: "list" } },
    { method: "get", path: "/v1/broadcasts/{id}", summary: "One broadcast", roles: MKT, ok: { 200: "broadcast" }, errors: [404] },
    { method: "post", path: "/v1/broadcasts/{id}/dry-run", summary: "Who a broadcast would reach", roles: MKT, ok: { 200: "audience" }, errors: [404] },
    { method: "post", path: "/v1/admin/api-keys", summary: "Create an API key; the key is in this answer only", roles: ADMIN, body: json(ApiKeyRequest), ok: { 201: "created: store the key now" }, errors: [400, 422, 503] },
    { method: "get", path: "/v1/admin/api-keys", summary: "List API keys (never the key or its hash)", roles: ADMIN, ok: { 200: "keys" }, errors: [503] },
    { method: "delete", path: "/v1/admin/api-keys/{id}", summary: "Revoke an API key: refused from the next request on", roles: ADMIN, ok: { 204: "revoked" }, errors: [404, 503] },
    { method: "get", path: "/v1/admin/webhooks", summary: "Each webhook endpoint's latest deliveries and attempts", roles: ADMIN, query: ["limit"], ok: { 200: "endpoints" }, errors: [503] },
  ];
}

const PROBLEM_TITLES: Record<number, string> = {
  400: "Malformed request",
  401: "Authentication required (bearer JWT or API key)",
  403: "Not allowed (missing role, or origin not allowed)",
  404: "Not found",
  409: "Conflict",
  413: "Body too large",
  415: "Unsupported content type",
  422: "Fields not valid: `errors` names each",
  429: "Rate limited (Retry-After)",
  503: "Not available on this deployment",
};

/** A zod schema as a JSON Schema (2020-12, OpenAPI 3.1's dialect) of what a client sends. */
function schemaOf(schema: $ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
  return rest;
}

function operationObject(op: Operation): Record<string, unknown> {
  const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
  const query = (op.query ?? []).map((name) => ({ name, in: "query", required: name === "token", schema: { type: "string" } }));
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(op.ok)) {
    const { description, schema, mediaType } = typeof answer === "string" ? { description: answer, schema: undefined, mediaType: undefined } : answer;
    responses[status] =
      Number(status) === 204 || Number(status) === 303
        ? { description }
        : { description, content: { [mediaType ?? "application/json"]: { schema: schema ? schemaOf(schema) : {} } } };
  }
  const errors = [...new Set([...(op.roles ? [401, 403] : []), ...(op.errors ?? []), 500])].sort();
  for (const status of errors) {
    responses[String(status)] = {
      description: PROBLEM_TITLES[status] ?? "Internal error",
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    };
  }
  const body =
    op.body === undefined
      ? undefined
      : op.body instanceof $ZodType
        ? { "application/json": op.body }
        : op.body;
  return {
    summary: op.summary,
    operationId: `${op.method}${op.path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
    security: op.roles ? [{ bearerJwt: [] }, { apiKey: [] }] : [],
    ...(op.roles ? { "x-leadloop-roles": op.roles } : {}),
    ...(params.length + query.length > 0 ? { parameters: [...params, ...query] } : {}),
    ...(body
      ? { requestBody: { required: true, content: Object.fromEntries(Object.entries(body).map(([type, schema]) => [type, { schema: schemaOf(schema) }])) } }
      : {}),
    responses,
  };
}

/** The whole document for this deployment's config (its forms' fields shape the submission body). */
export function openApiDocument(config: LeadloopConfig, serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations(config)) {
    paths[op.path] ??= {};
    (paths[op.path] as Record<string, unknown>)[op.method] = operationObject(op);
  }
  const webhooks = Object.fromEntries(
    WEBHOOK_EVENTS.map((type) => [
      type,
      {
        post: {
          summary: `${type}, posted to each endpoint of config/webhooks.yaml that subscribes to it`,
          description: `Signed: ${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">; see docs/webhooks.md. Retried with back-off for a day until a 2xx.`,
          parameters: [
            { name: SIGNATURE_HEADER, in: "header", required: true, schema: { type: "string" } },
            { name: DELIVERY_HEADER, in: "header", required: true, schema: { type: "string" } },
            { name: EVENT_HEADER, in: "header", required: true, schema: { type: "string", const: type } },
          ],
          requestBody: { required: true, content: { "application/json": { schema: schemaOf(webhookBodySchema(type)) } } },
          responses: { "2XX": { description: "received; anything else (or no answer in 5 s) is retried" } },
        },
      },
    ]),
  );
  return {
    openapi: "3.1.0",
    info: {
      title: "leadloop",
      version: "1",
      description:
        "Lead capture, nurture, hand-off to sales and the loop back. Errors are RFC 9457 application/problem+json. Guarded routes take `Authorization: Bearer <JWT>` (reps, marketing, admins) or `Authorization: Bearer llk_…` (an API key an admin created, with its roles).",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    webhooks,
    components: {
      schemas: { Problem: schemaOf(ProblemDetails) },
      securitySchemes: {
        bearerJwt: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "HS256 from npm run token, or the stage's OpenID Connect issuer; roles in leadloop:roles" },
        apiKey: { type: "http", scheme: "bearer", bearerFormat: "llk_<id>_<secret>", description: "An API key: POST /v1/admin/api-keys or npm run apikey -- create" },
      },
    },
  };
}
