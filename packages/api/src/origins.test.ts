import type { Context } from "hono";
import { describe, expect, it } from "vitest";
import { isLocalOrigin, originListed } from "./origins";

const at = (url: string) => ({ req: { url } }) as unknown as Context;
const listed = ["http://localhost:3000", "https://www.acme.example"];

describe("originListed", () => {
  it("refuses a listed loopback origin only where told to, and null everywhere", () => {
    expect(originListed(at("https://api.acme.example/v1/events"), listed, "http://localhost:3000", false)).toBe(true);
    expect(originListed(at("https://api.acme.example/v1/events"), listed, "http://localhost:3000", true)).toBe(false);
    expect(originListed(at("https://api.acme.example/v1/events"), listed, "https://www.acme.example", true)).toBe(true);
    expect(originListed(at("https://api.acme.example/v1/events"), listed, "null", false)).toBe(false);
    // The API's own pages (the local demo page) may always post.
    expect(originListed(at("http://127.0.0.1:3000/v1/events"), [], "http://127.0.0.1:3000", true)).toBe(true);
  });

  it("knows loopback hosts", () => {
    for (const o of ["http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:3000", "http://app.localhost"]) expect(isLocalOrigin(o), o).toBe(true);
    for (const o of ["https://www.acme.example", "null", "http://localhost.evil.example"]) expect(isLocalOrigin(o), o).toBe(false);
  });
});
