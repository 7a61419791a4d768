import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decoyLeadId, deriveLeadId, LeadIdKeyError } from "./lead-id";

const KEY = "lead-id-key-for-tests-0123456789";
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("deriveLeadId", () => {
  it("gives one address one id, however it was typed", () => {
    const id = deriveLeadId(KEY, "ada@engines.example");
    expect(id).toMatch(UUID_V8);
    expect(deriveLeadId(KEY, "  ADA@Engines.example ")).toBe(id);
    // NFC: a decomposed é is the same address as the composed one.
    expect(deriveLeadId(KEY, "rene\u0301@x.example")).toBe(deriveLeadId(KEY, "ren\u00e9@x.example"));
  });

  it("gives different addresses different ids", () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.emailAddress(), (a, b) => {
        fc.pre(a.trim().normalize("NFC").toLowerCase() !== b.trim().normalize("NFC").toLowerCase());
        expect(deriveLeadId(KEY, a)).not.toBe(deriveLeadId(KEY, b));
      }),
    );
  });

  it("cannot be computed from the address without the key", () => {
    const email = "ada@engines.example";
    const id = deriveLeadId(KEY, email);
    expect(deriveLeadId("another-deployment-key-987654321", email)).not.toBe(id);
    // Not a plain hash of the address either: knowing the scheme is not enough.
    const plain = createHash("sha256").update(email).digest("hex");
    expect(id.replaceAll("-", "").slice(0, 12)).not.toBe(plain.slice(0, 12));
    const md5 = createHash("md5").update(email).digest("hex");
    expect(id.replaceAll("-", "").slice(0, 12)).not.toBe(md5.slice(0, 12));
  });

  it("makes decoys a bot cannot tell from real ids", () => {
    const decoys = Array.from({ length: 100 }, () => decoyLeadId());
    for (const id of decoys) expect(id).toMatch(UUID_V8);
    expect(new Set(decoys).size).toBe(100);
  });

  it("refuses a short key", () => {
    expect(() => deriveLeadId("short", "ada@engines.example")).toThrow(LeadIdKeyError);
  });
});
