/** Starts the local stack for an end-to-end test file, on the run's shared engines, with its own table. */
import { randomUUID } from "node:crypto";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "@leadloop/local";
import { inject } from "vitest";

const UNLIMITED = { limit: 1_000_000_000, windowSeconds: 60 };

export async function startTestStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    port: 0,
    dynamoEndpoint: inject("dynamoEndpoint"),
    sesEndpoint: inject("sesEndpoint"),
    tableName: `e2e-${randomUUID()}`,
    logLevel: (process.env.E2E_LOG as "error" | undefined) ?? "silent",
    rateLimit: { burst: 10_000, perSecond: 10_000 },
    // Suites send many requests from one address; the flood suite sets real limits.
    clientLimits: { capture: UNLIMITED, captureEmail: UNLIMITED, events: UNLIMITED },
    ...options,
  });
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    redirect: "manual",
  });
}

export const demoLead = (email: string, extra: Record<string, unknown> = {}) => ({
  email,
  firstName: "Ada",
  lastName: "Lovelace",
  company: "Analytical Engines Ltd",
  title: "VP Engineering",
  companySize: 1500,
  country: "GB",
  consent: true,
  ...extra,
});
