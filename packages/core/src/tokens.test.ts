import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidTokenError } from "./errors";
import { expiresIn, TokenSigner } from "./tokens";

const signer = new TokenSigner("a-test-signing-key-of-some-length");
const now = new Date("2026-05-01T12:00:00Z");

describe("TokenSigner", () => {
  it("round-trips claims for the purpose it was made for", () => {
    const token = signer.sign({ sub: "lead-1", purpose: "unsubscribe", exp: expiresIn(now, 30) });
    expect(signer.verify(token, "unsubscribe", now).sub).toBe("lead-1");
  });

  it("refuses another purpose, expiry, another key and garbage with a reason", () => {
    const token = signer.sign({ sub: "lead-1", purpose: "lead", exp: expiresIn(now, 1) });
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as InvalidTokenError).reason;
      }
      return "accepted";
    };
    expect(reason(() => signer.verify(token, "unsubscribe", now))).toBe("purpose");
    expect(reason(() => signer.verify(token, "lead", new Date(now.getTime() + 2 * 86_400_000)))).toBe("expired");
    expect(reason(() => new TokenSigner("another-key-entirely-0000").verify(token, "lead", now))).toBe("signature");
    expect(reason(() => signer.verify("garbage", "lead", now))).toBe("malformed");
  });

  it("never accepts a token altered in any character", () => {
    const token = signer.sign({ sub: "lead-1", purpose: "lead", exp: expiresIn(now, 1) });
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(..."ABCxyz019-_."), (i, ch) => {
        fc.pre(token[i] !== ch);
        const altered = token.slice(0, i) + ch + token.slice(i + 1);
        expect(() => signer.verify(altered, "lead", now)).toThrow(InvalidTokenError);
      }),
    );
  });

  it("cannot be turned into another lead's token", () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), (a, b) => {
        fc.pre(a !== b);
        const [, mac] = signer.sign({ sub: a, purpose: "lead", exp: expiresIn(now, 1) }).split(".");
        const forgedPayload = Buffer.from(JSON.stringify([b, "lead", expiresIn(now, 1)])).toString("base64url");
        expect(() => signer.verify(`${forgedPayload}.${mac}`, "lead", now)).toThrow(InvalidTokenError);
      }),
    );
  });
});
