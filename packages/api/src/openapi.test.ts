/**
 * The OpenAPI document covers every route the app mounts (walked from `app.routes`, so a route
 * added without its entry fails here) and is a valid OpenAPI 3.1 document by
 * @apidevtools/swagger-parser's validator (the specification's JSON Schema plus its own checks).
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import { loadConfigOrThrow, OutcomeRequest, QualityRequest } from "@leadloop/core";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { type AppDeps, createApp } from "./app";
import { openApiDocument } from "./openapi";

const config = loadConfigOrThrow("config");
const app = createApp({ config, log: console, clientIp: () => "x" } as unknown as AppDeps);
const document = openApiDocument(config, "http://127.0.0.1:3000") as {
  openapi: string;
  paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown>; requestBody?: unknown }>>;
  webhooks: Record<string, { post: { requestBody: { content: { "application/json": { schema: { properties: { data: { properties: Record<string, unknown> } } } } } } } }>;
};

describe("/openapi.json", () => {
  it("describes every route the app mounts, method and path", () => {
    const mounted = [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`))];
    expect(mounted.length).toBeGreaterThan(30);
    const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    for (const route of mounted) expect(documented, route).toContain(route);
    // And nothing documented that the app does not serve.
    for (const route of documented) expect(mounted, route).toContain(route);
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    expect(document.openapi).toBe("3.1.0");
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it("names the auth of each route and answers errors as problem+json", () => {
    expect(document.paths["/v1/forms/{formId}/submissions"]?.post?.security).toEqual([]);
    expect(document.paths["/v1/customers/{id}/purchases"]?.post?.security).toEqual([{ bearerJwt: [] }, { apiKey: [] }]);
    expect(document.paths["/v1/customers/{id}/purchases"]?.post?.responses["401"]).toMatchObject({
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    });
    // The purchase body is the zod schema the route validates with.
    expect(JSON.stringify(document.paths["/v1/customers/{id}/purchases"]?.post?.requestBody)).toContain("purchaseId");
    // Each form's fields, from config/forms.yaml.
    expect(JSON.stringify(document.paths["/v1/forms/{formId}/submissions"]?.post?.requestBody)).toContain("companySize");
  });

  it("describes the outcome and quality bodies with the schemas core validates them by", () => {
    const body = (path: string) => (document.paths[path]?.post?.requestBody as { content: Record<string, { schema: unknown }> } | undefined)?.content["application/json"]?.schema;
    const { $schema: _o, ...outcome } = z.toJSONSchema(OutcomeRequest, { io: "input" });
    const { $schema: _q, ...quality } = z.toJSONSchema(QualityRequest, { io: "input" });
    expect(body("/v1/sales/leads/{id}/outcome")).toEqual(outcome);
    expect(body("/v1/sales/leads/{id}/quality")).toEqual(quality);
    // What the schema knows shows in the document: each outcome's required fields and formats.
    expect(JSON.stringify(outcome)).toContain('"required":["outcome","amount"]');
    expect(JSON.stringify(outcome)).toContain('"pattern":"^[A-Za-z]{3}$"');
    expect(JSON.stringify(quality)).toContain('"enum":["good-fit","bad-fit","wrong-contact"]');
  });

  it("documents the CRM-shaped lead.qualified webhook", () => {
    const data = document.webhooks["lead.qualified"]?.post.requestBody.content["application/json"].schema.properties.data.properties;
    expect(Object.keys(data ?? {}).sort()).toEqual(["lead", "owner", "qualifiedAt", "score", "segment"]);
    expect(JSON.stringify(data?.lead)).toContain("firstTouch");
    expect(JSON.stringify(data?.score)).toContain("reasons");
  });

  it("is served by the app", async () => {
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { openapi: string }).openapi).toBe("3.1.0");
  });
});
