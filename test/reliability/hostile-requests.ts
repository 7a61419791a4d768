/**
 * Generators of hostile requests for every public route: wrong types, huge strings, deep nesting,
 * bad encodings, bad content types, header injection in fields that reach email headers,
 * prototype-pollution keys, bad form ids. Each case carries what its answer may be checked against.
 */
import fc from "fast-check";

export interface HostileCase {
  route: "capture" | "preflight" | "unsubscribe" | "confirm" | "events" | "health" | "unknown";
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** The form id in the path, when the route has one. */
  formId?: string;
  /** Field names the body carried (a 422 may name one of them or a field of the form). */
  sent: string[];
  /** An address whose accepted lead carries a header-injection payload (checked in its emails). */
  injectedEmail?: string;
}

export const FORM_IDS = ["demo-request", "whitepaper", "newsletter"] as const;

/** Payloads that try to add a header (or a recipient) when a value lands in a subject line. */
export const INJECTIONS = [
  "Ada\r\nBcc: victim@evil.example",
  "Ada\nBcc: victim@evil.example",
  "Ada\rBcc: victim@evil.example",
  "Ada\r\n\r\n<html>body takeover</html>",
  "Ada%0d%0aBcc:%20victim@evil.example",
  "Ada\u2028Bcc: victim@evil.example",
  "Ada\u2029Bcc: victim@evil.example",
  "Ada\u0085Bcc: victim@evil.example",
  "Ada =?utf-8?q?=0D=0ABcc=3A_victim=40evil=2Eexample?=",
  "Ada\tBcc: victim@evil.example",
  "Ada\u000bBcc: victim@evil.example",
  "Ada\u0000Bcc: victim@evil.example",
  "Bcc: victim@evil.example",
  "{{ lead.email }}\nBcc: victim@evil.example",
  "{% raw %}\r\nBcc: x{% endraw %}",
] as const;

const POLLUTION_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

const BAD_FORM_IDS = [
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "prototype",
  "%2e%2e",
  "..%2f..%2fetc%2fpasswd",
  "%00",
  "%ZZ",
  "%",
  "%E0%A4%A",
  "%C3%28",
  "demo-request%00",
  "DEMO-REQUEST",
  "demo-request%20",
  "a".repeat(2000),
];

/** `arb` in one case out of `oneIn`, null otherwise (fc.option's freq is the odds of null). */
function sometimes<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ arbitrary: fc.constant(null), weight: oneIn - 1 }, { arbitrary: arb, weight: 1 });
}

/** Percent-encodes any string, lone surrogates included (encodeURIComponent throws on those). */
export function pct(s: string): string {
  let out = "";
  for (const byte of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const LONE_SURROGATES = ["\ud800", "a\udfffb", "\udbff\udc00\ud800", "\uffff", "\u0000", "\ufeff", "\u202e"];

/** Strings that are long, short, odd or invalid in ways a parser or a database may dislike. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 4 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 40 }), weight: 2 },
  { arbitrary: fc.constantFrom(...INJECTIONS), weight: 2 },
  { arbitrary: fc.constantFrom(...LONE_SURROGATES), weight: 1 },
  { arbitrary: fc.constantFrom(...POLLUTION_KEYS), weight: 1 },
  {
    // Around the field limits and the 16 KiB body limit, in one- and multi-byte characters.
    arbitrary: fc.tuple(fc.constantFrom("x", "é", "𝄞", " ", "\\"), fc.integer({ min: 60, max: 20_000 })).map(([c, n]) => c.repeat(Math.ceil(n / c.length))),
    weight: 1,
  },
);

/** A JSON text nested `depth` deep, as arrays or objects. */
const deepJson = fc
  .tuple(fc.integer({ min: 10, max: 9_000 }), fc.boolean())
  .map(([depth, arrays]) => (arrays ? `${"[".repeat(depth)}1${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`));

/** A JSON value as text: wrong types, nesting, pollution objects, odd numbers. */
const jsonValueText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: hostileString.map((s) => JSON.stringify(s)), weight: 6 },
  { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), weight: 3 },
  { arbitrary: fc.constantFrom("1e400", "-0", "0.1e-400", "123456789012345678901234567890", "-1", "0", "1.5", "true", "null", "[]", "{}"), weight: 2 },
  { arbitrary: deepJson, weight: 1 },
  { arbitrary: fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"polluted":1}}}', '["__proto__"]'), weight: 1 },
);

const validLead = (email: string): Record<string, string> => ({
  email,
  firstName: "Ada",
  lastName: "Lovelace",
  company: "Analytical Engines Ltd",
  title: "Engineer",
  companySize: "1500",
  country: "GB",
  consent: "true",
});

const jsonText = (entries: [string, string][]) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;

const fieldName = fc.oneof(
  { arbitrary: fc.constantFrom("email", "firstName", "lastName", "company", "title", "companySize", "country", "phone", "timezone", "consent", "website", "utm_source", "referrer", "landingPage"), weight: 6 },
  { arbitrary: fc.constantFrom(...POLLUTION_KEYS), weight: 2 },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 2 },
);

/** Field edits applied on top of a valid submission, so hostile values reach deep into capture. */
const edits = fc.array(fc.tuple(fieldName, jsonValueText), { minLength: 0, maxLength: 5 });

const formIdArb = fc.oneof(
  { arbitrary: fc.constantFrom(...FORM_IDS), weight: 12 },
  { arbitrary: fc.constantFrom(...BAD_FORM_IDS), weight: 1 },
  { arbitrary: fc.string({ maxLength: 60 }).map(pct), weight: 1 },
);

const TEXTY = ["application/json", "application/json; charset=utf-8", "application/ld+json", "APPLICATION/JSON", "application/json; charset=latin1"];
const FORMY = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=iso-8859-1"];
const WEIRD_TYPES = ["text/plain", "", "application/xml", "*/*", "multipart/form-data", "multipart/form-data; boundary=", "multipart/mixed; boundary=x", "application/json\u0009x", "application/x-www-form-urlencoded, application/json", "text/html; charset=utf-8", "image/png"];
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const contentTypeArb = fc.oneof(fc.constantFrom(...TEXTY, ...FORMY, ...WEIRD_TYPES), headerText);

const ORIGINS = [undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, "null", "null", "http://localhost:3000", "https://evil.example", "http://localhost:3000.evil.example", "not a url", "http://[::1", "SELF"];
const REFERERS = [undefined, undefined, "SELF/?form=demo-request", "https://evil.example/form", "javascript:alert(1)", "not a url", "http://localhost:3000/page", "//evil.example/x"];
const ACCEPTS = [undefined, "application/json", "text/html", "*/*", "text/html,application/json"];

const optionalHeaders = fc.record({
  origin: fc.constantFrom(...ORIGINS),
  referer: fc.constantFrom(...REFERERS),
  accept: fc.constantFrom(...ACCEPTS),
  "user-agent": fc.option(headerText, { nil: undefined }),
});

function headersOf(h: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined));
}

const queryArb = fc.option(
  fc.array(
    fc.tuple(
      fc.constantFrom("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "__proto__", "token", "x"),
      // Short enough that the request head stays under Node's 16 KiB limit, which the platform (not the app) enforces with a bare 431.
      fc.oneof(hostileString.map((s) => pct(s.slice(0, 300))), fc.constantFrom("%", "%E0%A4%A", "%C3%28", "%ZZ", "%00", "a+b%20c")),
    ),
    { maxLength: 3 },
  ).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}` : "")),
  { nil: "" },
);

let serial = 0;
/** A fresh address per case, so cases never merge into each other's leads. */
export const freshEmail = () => `fuzz-${process.pid}-${Date.now().toString(36)}-${serial++}@fuzz.example`;

function capturePath(formId: string, query = "") {
  return `/v1/forms/${formId}/submissions${query}`;
}

/** JSON submissions: a valid base with hostile edits, or a wholly hostile body. */
const captureJson: fc.Arbitrary<HostileCase> = fc
  .record({ formId: formIdArb, edits, base: fc.boolean(), ct: fc.constantFrom(...TEXTY), h: optionalHeaders, query: queryArb, raw: sometimes(jsonValueText, 6) })
  .map(({ formId, edits, base, ct, h, query, raw }) => {
    const email = freshEmail();
    const entries: [string, string][] = base ? Object.entries(validLead(email)).map(([k, v]) => [k, JSON.stringify(v)]) : [];
    for (const [k, v] of edits) {
      const at = entries.findIndex(([e]) => e === k);
      if (at >= 0) entries[at] = [k, v];
      else entries.push([k, v]);
    }
    const text = raw ?? jsonText(entries);
    return {
      route: "capture" as const,
      method: "POST",
      path: capturePath(formId, query),
      formId,
      headers: headersOf({ ...h, "content-type": ct }),
      body: Buffer.from(text, ct.includes("latin1") ? "latin1" : "utf8"),
      sent: entries.map(([k]) => k),
    };
  });

/** Browser posts: urlencoded, sometimes with malformed percent escapes or raw invalid bytes. */
const captureUrlencoded: fc.Arbitrary<HostileCase> = fc
  .record({
    formId: formIdArb,
    pairs: fc.array(fc.tuple(fieldName, hostileString), { maxLength: 5 }),
    base: fc.boolean(),
    badEscape: sometimes(fc.constantFrom("%", "%E0%A4%A", "%C3%28", "%ZZ", "%ff%fe", "&&&==", "=x", "a=%00"), 3),
    rawBytes: sometimes(fc.uint8Array({ maxLength: 300 }), 8),
    ct: fc.constantFrom(...FORMY),
    h: optionalHeaders,
  })
  .map(({ formId, pairs, base, badEscape, rawBytes, ct, h }) => {
    const fields = new URLSearchParams(base ? validLead(freshEmail()) : {});
    for (const [k, v] of pairs) fields.set(k, v);
    let text = fields.toString();
    if (badEscape) text += `&firstName=${badEscape}`;
    const body = rawBytes ? Buffer.concat([Buffer.from(`${text}&company=`), rawBytes]) : Buffer.from(text, "utf8");
    return {
      route: "capture" as const,
      method: "POST",
      path: capturePath(formId),
      formId,
      headers: headersOf({ ...h, "content-type": ct }),
      body,
      sent: [...new Set([...fields.keys(), "firstName", "company"])],
    };
  });

/** multipart/form-data, well- and ill-formed, with file parts and wrong boundaries. */
const captureMultipart: fc.Arbitrary<HostileCase> = fc
  .record({
    formId: formIdArb,
    pairs: fc.array(fc.tuple(fieldName, hostileString), { maxLength: 4 }),
    base: fc.boolean(),
    file: sometimes(fieldName, 4),
    breakage: fc.constantFrom("none", "none", "none", "no-close", "wrong-boundary", "no-boundary-param", "garbage", "quoted-name"),
    charset: fc.constantFrom("", "; charset=utf-8", "; charset=latin1"),
    h: optionalHeaders,
  })
  .map(({ formId, pairs, base, file, breakage, charset, h }) => {
    const boundary = "----leadloopfuzz7MA4YWxkTrZu0gW";
    const fields: [string, string][] = [...(base ? Object.entries(validLead(freshEmail())) : []), ...pairs];
    const parts = fields.map(
      ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${breakage === "quoted-name" ? k : k.replace(/["\r\n]/g, "_")}"\r\n\r\n${v}\r\n`,
    );
    if (file) parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${file.replace(/["\r\n]/g, "_")}"; filename="x.exe"\r\nContent-Type: application/octet-stream\r\n\r\nMZ\u0000\u0001\r\n`);
    let text = parts.join("") + (breakage === "no-close" ? "" : `--${boundary}--\r\n`);
    if (breakage === "garbage") text = `not multipart at all ${text.slice(0, 40)}`;
    const ct =
      breakage === "wrong-boundary"
        ? "multipart/form-data; boundary=something-else"
        : breakage === "no-boundary-param"
          ? "multipart/form-data"
          : `multipart/form-data; boundary=${boundary}${charset}`;
    return {
      route: "capture" as const,
      method: "POST",
      path: capturePath(formId),
      formId,
      headers: headersOf({ ...h, "content-type": ct }),
      body: Buffer.from(text, "utf8"),
      sent: [...fields.map(([k]) => k), ...(file ? [file] : [])],
    };
  });

/** Any bytes under any content type, including sizes just under and over the body limit. */
const captureRaw: fc.Arbitrary<HostileCase> = fc
  .record({
    formId: formIdArb,
    ct: contentTypeArb,
    bytes: fc.oneof(fc.uint8Array({ maxLength: 500 }), fc.integer({ min: 16 * 1024 - 20, max: 16 * 1024 + 20 }).map((n) => new Uint8Array(n).fill(0x61))),
    h: optionalHeaders,
  })
  .map(({ formId, ct, bytes, h }) => ({
    route: "capture" as const,
    method: "POST",
    path: capturePath(formId),
    formId,
    headers: headersOf({ ...h, "content-type": ct }),
    body: bytes,
    sent: [],
  }));

/**
 * Valid submissions whose text fields carry a header-injection payload: those that are accepted
 * must never yield an email with an injected header (checked after a sweep).
 */
const captureInjection: fc.Arbitrary<HostileCase> = fc
  .record({
    formId: fc.constantFrom("demo-request", "whitepaper"),
    field: fc.constantFrom("firstName", "lastName", "company", "title"),
    payload: fc.constantFrom(...INJECTIONS),
    urlencoded: fc.boolean(),
  })
  .map(({ formId, field, payload, urlencoded }) => {
    const email = freshEmail();
    const fields = { ...validLead(email), [field]: payload };
    return {
      route: "capture" as const,
      method: "POST",
      path: capturePath(formId),
      formId,
      headers: { "content-type": urlencoded ? "application/x-www-form-urlencoded" : "application/json", accept: "application/json" },
      body: Buffer.from(urlencoded ? new URLSearchParams(fields).toString() : JSON.stringify(fields)),
      sent: Object.keys(fields),
      injectedEmail: email,
    };
  });

/** An address injection: extra recipients smuggled into the email field itself. */
const captureAddressInjection: fc.Arbitrary<HostileCase> = fc
  .constantFrom(
    "victim@fuzz.example\r\nBcc: evil@evil.example",
    "victim@fuzz.example, evil@evil.example",
    "victim@fuzz.example;evil@evil.example",
    '"evil\r\nBcc: x"@fuzz.example',
    "victim@fuzz.example%0ABcc:evil@evil.example",
    "victim@fuzz.example\u2028Bcc: evil@evil.example",
    "Victim <victim@fuzz.example>",
    "victim+tag@fuzz.example",
  )
  .map((email) => ({
    route: "capture" as const,
    method: "POST",
    path: capturePath("demo-request"),
    formId: "demo-request",
    headers: { "content-type": "application/json" },
    body: Buffer.from(JSON.stringify({ ...validLead(email), email })),
    sent: ["email"],
  }));

const preflight: fc.Arbitrary<HostileCase> = fc
  .record({
    formId: formIdArb,
    origin: fc.constantFrom(...ORIGINS),
    method: fc.option(fc.constantFrom("POST", "PUT", "DELETE", "x"), { nil: undefined }),
    reqHeaders: fc.option(headerText, { nil: undefined }),
  })
  .map(({ formId, origin, method, reqHeaders }) => ({
    route: "preflight" as const,
    method: "OPTIONS",
    path: capturePath(formId),
    formId,
    headers: headersOf({ origin, "access-control-request-method": method, "access-control-request-headers": reqHeaders }),
    sent: [],
  }));

/** What a link token can look like: missing, empty, random, altered, expired, for the wrong purpose, huge. */
export type TokenKind = "missing" | "empty" | "random" | "tampered" | "expired" | "wrong-purpose" | "valid-unknown-lead" | "valid-known-lead" | "huge" | "bad-escape";
export type TokenFactory = (kind: TokenKind, purpose: "unsubscribe" | "confirm" | "lead") => string | undefined;
const TOKEN_KINDS: TokenKind[] = ["missing", "empty", "random", "tampered", "expired", "wrong-purpose", "valid-unknown-lead", "valid-known-lead", "huge", "bad-escape"];

function linkRoute(route: "unsubscribe" | "confirm", tokens: TokenFactory): fc.Arbitrary<HostileCase> {
  return fc
    .record({
      kind: fc.constantFrom(...TOKEN_KINDS),
      method: route === "confirm" ? fc.constantFrom("GET", "GET", "POST") : fc.constantFrom("GET", "POST"),
      accept: fc.constantFrom(...ACCEPTS),
      body: fc.option(fc.constantFrom("List-Unsubscribe=One-Click", "{}", "\u0000\u00ff", ""), { nil: undefined }),
      ct: fc.option(contentTypeArb, { nil: undefined }),
    })
    .map(({ kind, method, accept, body, ct }) => {
      const token = tokens(kind, route);
      const query = token === undefined ? "" : `?token=${kind === "bad-escape" ? token : pct(token)}`;
      return {
        route,
        method,
        path: `/v1/${route}${query}`,
        headers: headersOf({ accept, "content-type": method === "POST" ? ct : undefined }),
        ...(method === "POST" && body !== undefined ? { body: Buffer.from(body, "utf8") } : {}),
        sent: ["token"],
      };
    });
}

/** Site events: a JSON object with a lead token (good, altered, foreign, missing) and hostile fields. */
function events(tokens: TokenFactory): fc.Arbitrary<HostileCase> {
  return fc
    .record({
      kind: fc.constantFrom(...TOKEN_KINDS),
      type: fc.oneof({ arbitrary: fc.constantFrom("page_view", "download", "webinar_attended").map((t) => JSON.stringify(t)), weight: 4 }, { arbitrary: jsonValueText, weight: 1 }),
      url: fc.option(fc.oneof(fc.constantFrom("https://www.acme-analytics.example/pricing", "javascript:alert(1)", "http://[::1", "https://x.example/\u2028"), hostileString).map((u) => JSON.stringify(u)), { freq: 3 }),
      title: fc.option(hostileString.map((t) => JSON.stringify(t)), { freq: 3 }),
      extra: sometimes(fc.array(fc.tuple(fieldName, jsonValueText), { minLength: 1, maxLength: 2 }), 4),
      raw: sometimes(jsonValueText, 8),
      ct: fc.oneof({ arbitrary: fc.constantFrom("application/json", "text/plain", "text/plain;charset=UTF-8"), weight: 4 }, { arbitrary: contentTypeArb, weight: 1 }),
      h: optionalHeaders,
    })
    .map(({ kind, type, url, title, extra, raw, ct, h }): HostileCase => {
      const token = tokens(kind, "lead");
      const entries: [string, string][] = [
        ...(token === undefined ? [] : ([["token", JSON.stringify(token)]] as [string, string][])),
        ["type", type],
        ...(url ? ([["url", url]] as [string, string][]) : []),
        ...(title ? ([["title", title]] as [string, string][]) : []),
        ...(extra ?? []),
      ];
      return {
        route: "events",
        method: "POST",
        path: "/v1/events",
        headers: headersOf({ ...h, "content-type": ct }),
        body: Buffer.from(raw ?? jsonText(entries), "utf8"),
        sent: raw ? [] : entries.map(([k]) => k),
      };
    });
}

const health: fc.Arbitrary<HostileCase> = fc
  .record({ method: fc.constantFrom("GET", "GET", "HEAD", "POST"), query: queryArb })
  .map(({ method, query }) => ({ route: "health" as const, method, path: `/health${query}`, headers: {}, sent: [] }));

const unknown: fc.Arbitrary<HostileCase> = fc
  .record({
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND"),
    path: fc.oneof(
      fc.constantFrom("/v1", "/v1/", "/v1/forms", "/v1/forms/demo-request", "/v1/forms/demo-request/submissions/extra", "/%2e%2e/%2e%2e/etc/passwd", "/v1/%ZZ", "/v1/forms/%/submissions", "/admin", "/.env", "/v2/forms/demo-request/submissions", "//health", "/health/", "/v1/unsubscribe/x"),
      fc.webPath(),
      fc.string({ maxLength: 200 }).map((s) => `/${pct(s)}`),
    ),
    body: fc.option(hostileString, { nil: undefined }),
  })
  .map(({ method, path, body }): HostileCase => ({
    route: "unknown" as const,
    method,
    path: path.startsWith("/") ? path : `/${path}`,
    headers: body !== undefined && method !== "GET" && method !== "HEAD" ? { "content-type": "application/json" } : {},
    ...(body !== undefined && method !== "GET" && method !== "HEAD" ? { body: Buffer.from(body.slice(0, 4000), "utf8") } : {}),
    sent: [],
  }));

export function hostileCase(tokens: TokenFactory): fc.Arbitrary<HostileCase> {
  return fc.oneof(
    { arbitrary: captureJson, weight: 8 },
    { arbitrary: captureUrlencoded, weight: 4 },
    { arbitrary: captureMultipart, weight: 4 },
    { arbitrary: captureRaw, weight: 3 },
    { arbitrary: captureInjection, weight: 2 },
    { arbitrary: captureAddressInjection, weight: 1 },
    { arbitrary: preflight, weight: 2 },
    { arbitrary: linkRoute("unsubscribe", tokens), weight: 2 },
    { arbitrary: linkRoute("confirm", tokens), weight: 1 },
    { arbitrary: events(tokens), weight: 3 },
    { arbitrary: health, weight: 1 },
    { arbitrary: unknown, weight: 2 },
  );
}

/** Every injection payload in every text field once, in both encodings: the check is never vacuous. */
export function injectionExamples(): HostileCase[] {
  const out: HostileCase[] = [];
  for (const payload of INJECTIONS) {
    for (const field of ["firstName", "company"]) {
      const email = freshEmail();
      const fields = { ...validLead(email), [field]: payload };
      out.push({
        route: "capture",
        method: "POST",
        path: capturePath("demo-request"),
        formId: "demo-request",
        headers: { "content-type": "application/json" },
        body: Buffer.from(JSON.stringify(fields)),
        sent: Object.keys(fields),
        injectedEmail: email,
      });
    }
  }
  return out;
}
