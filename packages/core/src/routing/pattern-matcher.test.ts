import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EventPattern, InvalidPatternError, matchesPattern, validatePattern } from "./pattern-matcher";

// The sample event of the EventBridge docs and event-ruler's README.
const ec2 = {
  version: "0",
  id: "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "012345679012",
  time: "2017-10-02T16:24:49Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  detail: {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    state: "running",
  },
};

function withDetail(detail: Record<string, unknown>) {
  return { ...ec2, detail };
}

type Case = [name: string, pattern: EventPattern, event: unknown, expected: boolean];

const cases: Case[] = [
  // Event pattern syntax: only the named fields count, values are lists (OR), fields are AND.
  [
    "docs syntax example",
    { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], detail: { state: ["running"] } },
    ec2,
    true,
  ],
  ["one field of the AND fails", { source: ["aws.ec2"], detail: { state: ["terminated"] } }, ec2, false],
  ["list of values is an OR", { source: ["aws.fargate", "aws.ec2"] }, ec2, true],
  ["no value of the list matches", { source: ["aws.fargate", "aws.s3"] }, ec2, false],
  ["field named by the pattern is missing", { detail: { missing: ["running"] } }, ec2, false],
  ["exact match is case-sensitive", { detail: { state: ["Running"] } }, ec2, false],
  ["an empty pattern matches anything", {}, ec2, true],
  // Arrays in events: the intersection must be non-empty.
  [
    "docs arrays example: pattern array meets event array",
    {
      resources: [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
      ],
    },
    {
      resources: [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      ],
    },
    true,
  ],
  ["arrays with an empty intersection", { resources: ["a", "b"] }, { resources: ["c", "d"] }, false],
  ["an empty event array has no value to match", { resources: ["a"] }, { resources: [] }, false],
  [
    "objects inside an event array: one element matches",
    { employees: { firstName: ["Anna"] } },
    { employees: [{ firstName: "John", lastName: "Doe" }, { firstName: "Anna", lastName: "Smith" }] },
    true,
  ],
  [
    "objects inside an event array: two fields must come from the same element",
    { employees: { firstName: ["Anna"], lastName: ["Jones"] } },
    { employees: [{ firstName: "Anna", lastName: "Smith" }, { firstName: "Peter", lastName: "Jones" }] },
    false,
  ],
  [
    "multi-level arrays are crushed out",
    { employees: { firstName: ["Peter"] } },
    { employees: [[{ firstName: "John" }], [{ firstName: "Peter" }]] },
    true,
  ],
  // Null and empty string are distinct values.
  ["null matches null", { detail: { responseElements: [null] } }, withDetail({ responseElements: null }), true],
  ['"" matches the empty string', { detail: { eventVersion: [""] } }, withDetail({ eventVersion: "" }), true],
  ['"" does not match null', { detail: { eventVersion: [""] } }, withDetail({ eventVersion: null }), false],
  ['null does not match ""', { detail: { responseElements: [null] } }, withDetail({ responseElements: "" }), false],
  ["null does not match a missing field", { detail: { responseElements: [null] } }, withDetail({}), false],
  // Types are never coerced.
  ["number does not match a numeric string", { detail: { n: [5] } }, withDetail({ n: "5" }), false],
  ["string does not match a number", { detail: { n: ["5"] } }, withDetail({ n: 5 }), false],
  ["true matches true", { detail: { ok: [true] } }, withDetail({ ok: true }), true],
  ['true does not match "true"', { detail: { ok: [true] } }, withDetail({ ok: "true" }), false],
  ["3.018e2 is 301.8", { detail: { "x-limit": [3.018e2] } }, ec2, true],
  // Nested objects.
  [
    "nested objects are matched recursively",
    { detail: { state: { status: ["running"] } } },
    withDetail({ state: { status: "running" } }),
    true,
  ],
  ["a nested pattern does not match a leaf", { detail: { state: { status: ["running"] } } }, ec2, false],
  ["a leaf pattern does not match an object", { detail: { state: ["running"] } }, withDetail({ state: { status: "running" } }), false],
  // prefix / suffix, also ignoring case.
  ["docs prefix example", { time: [{ prefix: "2017-10-02" }] }, ec2, true],
  ["prefix that does not match", { time: [{ prefix: "2017-10-03" }] }, ec2, false],
  ["prefix only works on strings", { detail: { "c-count": [{ prefix: "5" }] } }, ec2, false],
  [
    "prefix equals-ignore-case",
    { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    withDetail({ service: "eventbridge" }),
    true,
  ],
  [
    "prefix equals-ignore-case that does not match",
    { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    withDetail({ service: "Lambda" }),
    false,
  ],
  ["docs suffix example", { detail: { FileName: [{ suffix: ".png" }] } }, withDetail({ FileName: "cat.png" }), true],
  ["suffix is case-sensitive", { detail: { FileName: [{ suffix: ".png" }] } }, withDetail({ FileName: "cat.PNG" }), false],
  [
    "suffix equals-ignore-case",
    { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } },
    withDetail({ FileName: "cat.PNG" }),
    true,
  ],
  // anything-but.
  ["anything-but a string", { detail: { state: [{ "anything-but": "initializing" }] } }, ec2, true],
  [
    "anything-but the value itself",
    { detail: { state: [{ "anything-but": "initializing" }] } },
    withDetail({ state: "initializing" }),
    false,
  ],
  ["anything-but does not match a missing field", { detail: { nope: [{ "anything-but": "initializing" }] } }, ec2, false],
  ["anything-but does not match an object", { detail: { state: [{ "anything-but": "x" }] } }, withDetail({ state: { a: 1 } }), false],
  ["anything-but a number", { detail: { "x-limit": [{ "anything-but": 123 }] } }, ec2, true],
  ["anything-but that number", { detail: { "x-limit": [{ "anything-but": 123 }] } }, withDetail({ "x-limit": 123 }), false],
  ["anything-but 123 matches the string 123", { detail: { "x-limit": [{ "anything-but": 123 }] } }, withDetail({ "x-limit": "123" }), true],
  ["anything-but a list of strings", { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } }, ec2, true],
  [
    "anything-but a list of strings, listed value",
    { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    withDetail({ state: "overloaded" }),
    false,
  ],
  [
    "anything-but a list of numbers, listed value",
    { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    withDetail({ "x-limit": 200 }),
    false,
  ],
  ["anything-but a list of numbers", { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } }, ec2, true],
  [
    "anything-but prefix, value has the prefix",
    { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    withDetail({ state: "initializing" }),
    false,
  ],
  ["anything-but prefix, value lacks the prefix", { detail: { state: [{ "anything-but": { prefix: "init" } }] } }, ec2, true],
  ["anything-but prefix, field missing", { detail: { nope: [{ "anything-but": { prefix: "init" } }] } }, ec2, false],
  [
    "anything-but suffix",
    { detail: { FileName: [{ "anything-but": { suffix: ".png" } }] } },
    withDetail({ FileName: "cat.png" }),
    false,
  ],
  [
    "anything-but suffix, other extension",
    { detail: { FileName: [{ "anything-but": { suffix: ".png" } }] } },
    withDetail({ FileName: "cat.jpg" }),
    true,
  ],
  [
    "anything-but equals-ignore-case",
    { detail: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] } },
    withDetail({ state: "INITIALIZING" }),
    false,
  ],
  [
    "anything-but equals-ignore-case list",
    { detail: { state: [{ "anything-but": { "equals-ignore-case": ["stopped", "initializing"] } }] } },
    ec2,
    true,
  ],
  [
    "anything-but wildcard, path includes /lib/",
    { detail: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] } },
    withDetail({ FilePath: "/usr/lib/libc.so" }),
    false,
  ],
  [
    "anything-but wildcard, other path",
    { detail: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] } },
    withDetail({ FilePath: "/usr/bin/env" }),
    true,
  ],
  [
    "anything-but over an event array: every element excluded",
    { interests: [{ "anything-but": { wildcard: "*ball" } }] },
    { interests: ["baseball", "basketball"] },
    false,
  ],
  [
    "anything-but over an event array: one element not excluded",
    { interests: [{ "anything-but": "rugby" }] },
    { interests: ["rugby", "soccer"] },
    true,
  ],
  // numeric.
  [
    "docs numeric example",
    {
      detail: {
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ numeric: ["=", 3.018e2] }],
      },
    },
    ec2,
    true,
  ],
  ["numeric, open lower bound excludes the bound", { detail: { "c-count": [{ numeric: [">", 5] }] } }, ec2, false],
  ["numeric, closed upper bound includes the bound", { detail: { "c-count": [{ numeric: ["<=", 5] }] } }, ec2, true],
  ["numeric, bounds in either order", { detail: { "c-count": [{ numeric: ["<", 10, ">=", 5] }] } }, ec2, true],
  ["numeric does not match a numeric string", { detail: { n: [{ numeric: [">", 0] }] } }, withDetail({ n: "5" }), false],
  ["numeric over an event array", { detail: { n: [{ numeric: [">", 10] }] } }, withDetail({ n: [1, 2, 30] }), true],
  // cidr.
  ["cidr IPv4 inside", { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, ec2, true],
  ["cidr IPv4 outside", { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, withDetail({ "source-ip": "10.0.1.33" }), false],
  ["cidr /8", { detail: { "source-ip": [{ cidr: "10.0.0.0/8" }] } }, withDetail({ "source-ip": "10.200.3.4" }), true],
  ["cidr IPv6 inside", { ip: [{ cidr: "2001:db8::/32" }] }, { ip: "2001:db8:0:0:1::7" }, true],
  ["cidr IPv6 outside", { ip: [{ cidr: "2001:db8::/32" }] }, { ip: "2001:db9::1" }, false],
  ["cidr IPv4 block vs IPv6 address", { ip: [{ cidr: "0.0.0.0/0" }] }, { ip: "::1" }, false],
  ["cidr vs a string that is no address", { ip: [{ cidr: "0.0.0.0/0" }] }, { ip: "localhost" }, false],
  // exists.
  ["exists true on a present field", { detail: { "c-count": [{ exists: true }] } }, ec2, true],
  ["exists true on a missing field", { detail: { nope: [{ exists: true }] } }, ec2, false],
  ["exists false on a missing field", { detail: { nope: [{ exists: false }] } }, ec2, true],
  ["exists false on a present field", { detail: { "c-count": [{ exists: false }] } }, ec2, false],
  [
    "docs: exists false matches an intermediate node (not a leaf)",
    { detail: { "c-count": [{ exists: false }] } },
    withDetail({ state: ["initializing", "running"], "c-count": { c1: 100 } }),
    true,
  ],
  ["exists true does not match an intermediate node", { detail: { "c-count": [{ exists: true }] } }, withDetail({ "c-count": { c1: 100 } }), false],
  ["exists true matches a null value", { detail: { v: [{ exists: true }] } }, withDetail({ v: null }), true],
  ["exists false matches when the parent is missing", { detail: { a: { b: [{ exists: false }] } } }, ec2, true],
  ["exists false or a value", { detail: { state: [{ exists: false }, "running"] } }, ec2, true],
  // equals-ignore-case.
  ["equals-ignore-case", { source: [{ "equals-ignore-case": "AWS.EC2" }] }, ec2, true],
  ["equals-ignore-case is still equality", { source: [{ "equals-ignore-case": "AWS.EC" }] }, ec2, false],
  // wildcard.
  ["wildcard in the middle", { source: [{ wildcard: "Simple*Service" }] }, { source: "SimpleNotificationService" }, true],
  ["wildcard matches an empty run", { source: [{ wildcard: "Simple*Service" }] }, { source: "SimpleService" }, true],
  ["wildcard is anchored", { source: [{ wildcard: "Simple*Service" }] }, { source: "SimpleServices" }, false],
  ["wildcard with several stars", { key: [{ wildcard: "dir/*/file*.txt" }] }, { key: "dir/a/b/file-1.txt" }, true],
  ["escaped star is literal: matches a star", { key: [{ wildcard: "a\\*b" }] }, { key: "a*b" }, true],
  ["escaped star is literal: matches nothing else", { key: [{ wildcard: "a\\*b" }] }, { key: "axb" }, false],
  ["escaped backslash", { key: [{ wildcard: "a\\\\*" }] }, { key: "a\\xyz" }, true],
  ["wildcard treats regex characters literally", { key: [{ wildcard: "a.c*" }] }, { key: "abc" }, false],
  ["wildcard only works on strings", { n: [{ wildcard: "*" }] }, { n: 5 }, false],
  // $or.
  [
    "top-level $or, second branch",
    { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2", "AWS/ES"] }] },
    { source: "aws.cloudwatch", namespace: "AWS/ES" },
    true,
  ],
  [
    "top-level $or, no branch",
    { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2", "AWS/ES"] }] },
    { source: "aws.cloudwatch", namespace: "AWS/S3" },
    false,
  ],
  [
    "$or is ANDed with its sibling fields",
    { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }] },
    { source: "aws.s3", namespace: "AWS/EC2" },
    false,
  ],
  [
    "nested $or inside detail",
    { detail: { $or: [{ state: ["stopped"] }, { "c-count": [{ numeric: [">", 4] }] }] } },
    ec2,
    true,
  ],
  [
    "$or branch with an AND and a nested $or",
    {
      source: ["aws.cloudwatch"],
      $or: [
        { metricName: ["CPUUtilization"] },
        { metricType: ["MetricType"], namespace: ["AWS/EC2"], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
      ],
    },
    { source: "aws.cloudwatch", metricType: "MetricType", namespace: "AWS/EC2", spaceId: 1000 },
    true,
  ],
  [
    "$or with an exists:false branch",
    { $or: [{ detail: { nope: [{ exists: false }] } }, { source: ["aws.s3"] }] },
    ec2,
    true,
  ],
  // Robustness.
  ["an inherited property is not a field", { constructor: [{ exists: true }] }, {}, false],
  ["a non-object event has no fields", { source: ["aws.ec2"] }, "aws.ec2", false],
];

describe("matchesPattern: documented examples", () => {
  it.each(cases)("%s", (_name, pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it("covers at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });
});

describe("validatePattern", () => {
  const invalid: Array<[string, unknown, RegExp]> = [
    ["a pattern that is not an object", ["leadloop"], /must be a JSON object/],
    ["a leaf that is not a list", { source: "leadloop" }, /source: values to match must be in a list/],
    ["an empty list", { source: [] }, /empty list/],
    ["an unknown operator", { source: [{ prefx: "lead" }] }, /unknown operator "prefx"/],
    ["an operator object with two keys", { source: [{ prefix: "a", suffix: "b" }] }, /exactly one key/],
    ["a nested list", { source: [["a"]] }, /expected a string, number, boolean, null or operator/],
    ["prefix with a number", { source: [{ prefix: 5 }] }, /source\[0\]\.prefix: expected a string/],
    ["prefix with an unknown option", { source: [{ prefix: { "ignore-case": "a" } }] }, /equals-ignore-case/],
    ["exists with a string", { a: [{ exists: "true" }] }, /exists takes true or false/],
    ["numeric with an unknown operator", { a: [{ numeric: ["!=", 5] }] }, /unknown numeric operator "!="/],
    ["numeric with a string operand", { a: [{ numeric: [">", "5"] }] }, /followed by a number/],
    ["numeric with an odd length", { a: [{ numeric: [">", 0, "<"] }] }, /operator\/number pairs/],
    ["numeric that is not a list", { a: [{ numeric: 5 }] }, /operator\/number pairs/],
    ["numeric = combined with a bound", { a: [{ numeric: ["=", 1, "<", 5] }] }, /"=" cannot be combined/],
    ["numeric with two lower bounds", { a: [{ numeric: [">", 1, ">=", 5] }] }, /one lower bound/],
    ["numeric with an empty range", { a: [{ numeric: [">=", 10, "<", 0] }] }, /must be below/],
    ["numeric beyond 5e9", { a: [{ numeric: [">", 6e9] }] }, /between -5e9 and 5e9/],
    ["anything-but with a mixed list", { a: [{ "anything-but": ["a", 1] }] }, /only strings or only numbers/],
    ["anything-but with an empty list", { a: [{ "anything-but": [] }] }, /non-empty list/],
    ["anything-but with null", { a: [{ "anything-but": null }] }, /anything-but: takes a string/],
    ["anything-but with an unknown operator", { a: [{ "anything-but": { numeric: [">", 1] } }] }, /takes a string/],
    ["wildcard with consecutive stars", { a: [{ wildcard: "a**b" }] }, /consecutive wildcards/],
    ["wildcard escaping another character", { a: [{ wildcard: "a\\db" }] }, /may only escape/],
    ["wildcard ending in a lone backslash", { a: [{ wildcard: "a\\" }] }, /may only escape/],
    ["cidr without a prefix length", { a: [{ cidr: "10.0.0.1" }] }, /not a CIDR block/],
    ["cidr with a bad address", { a: [{ cidr: "10.0.0.256/8" }] }, /not a CIDR block/],
    ["cidr prefix too long", { a: [{ cidr: "10.0.0.0/33" }] }, /not a CIDR block/],
    ["$or with one branch", { $or: [{ a: ["x"] }] }, /at least two patterns/],
    ["$or that is an object", { $or: { a: ["x"] } }, /at least two patterns/],
    ["a malformed $or branch", { $or: [{ a: ["x"] }, { b: "y" }] }, /\$or\[1\]\.b/],
    ["a deep malformed leaf", { detail: { lead: { score: [{ numeric: [">"] }] } } }, /detail\.lead\.score\[0\]\.numeric/],
  ];

  it.each(invalid)("rejects %s", (_name, pattern, message) => {
    let error: unknown;
    try {
      validatePattern(pattern);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidPatternError);
    expect((error as Error).message).toMatch(message);
  });

  it("accepts every operator form the docs show", () => {
    const pattern = {
      source: ["aws.ec2", 5, true, null],
      detail: {
        a: [{ prefix: "x" }, { prefix: { "equals-ignore-case": "x" } }, { suffix: "x" }, { suffix: { "equals-ignore-case": "x" } }],
        b: [{ "anything-but": "x" }, { "anything-but": 1 }, { "anything-but": ["x", "y"] }, { "anything-but": [1, 2] }],
        c: [{ "anything-but": { prefix: "x" } }, { "anything-but": { suffix: "x" } }, { "anything-but": { wildcard: "*x" } }],
        d: [{ "anything-but": { "equals-ignore-case": ["x", "y"] } }, { "equals-ignore-case": "x" }, { wildcard: "a\\*b*" }],
        e: [{ numeric: ["=", 1] }, { numeric: [">", 0, "<=", 5] }, { numeric: ["<", 10] }, { exists: false }],
        f: [{ cidr: "10.0.0.0/24" }, { cidr: "2001:db8::/32" }, { cidr: "::ffff:10.0.0.0/104" }],
        $or: [{ g: ["x"] }, { h: { i: [{ exists: true }] } }],
      },
    };
    expect(() => validatePattern(pattern)).not.toThrow();
  });

  it("matchesPattern refuses a malformed pattern instead of guessing", () => {
    expect(() => matchesPattern({ source: [{ prefx: "a" }] } as unknown as EventPattern, {})).toThrow(InvalidPatternError);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const key = fc.constantFrom("a", "b", "c");
const eventKey = fc.constantFrom("a", "b", "c", "d");
const text = fc.constantFrom("x", "xy", "X", "yx", "", "10.0.0.7");
const scalar = fc.oneof(text, fc.integer({ min: -3, max: 3 }), fc.boolean(), fc.constant(null));

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const { event } = fc.letrec<{ event: Record<string, Json>; value: Json }>((tie) => ({
  event: fc.dictionary(eventKey, tie("value"), { maxKeys: 4 }),
  value: fc.oneof(
    { maxDepth: 3, depthIdentifier: "event" },
    scalar,
    fc.array(scalar, { maxLength: 3 }),
    tie("event"),
    fc.array(tie("event"), { maxLength: 2 }),
  ),
}));

const operator = fc.oneof(
  scalar,
  fc.record({ prefix: fc.constantFrom("x", "y", "") }),
  fc.record({ suffix: fc.constantFrom("x", "y") }),
  fc.record({ "equals-ignore-case": fc.constantFrom("x", "xy") }),
  fc.record({ wildcard: fc.constantFrom("*", "x*", "*y", "x*y") }),
  fc.record({ exists: fc.boolean() }),
  fc.record({ numeric: fc.constantFrom([">", 0], ["<=", 1], ["=", 2], [">=", -1, "<", 2]) }),
  fc.record({ cidr: fc.constantFrom("10.0.0.0/8", "11.0.0.0/8") }),
  fc.record({
    "anything-but": fc.oneof(
      text,
      fc.integer({ min: -3, max: 3 }),
      fc.array(text, { minLength: 1, maxLength: 2 }),
      fc.record({ prefix: fc.constantFrom("x", "y") }),
      fc.record({ wildcard: fc.constantFrom("x*", "*y") }),
    ),
  }),
);

function patternOver(keys: fc.Arbitrary<string>): fc.Arbitrary<EventPattern> {
  return fc.letrec<{ pattern: EventPattern; spec: EventPattern[string] }>((tie) => ({
    pattern: fc.dictionary(keys, tie("spec"), { minKeys: 1, maxKeys: 2 }),
    spec: fc.oneof(
      { maxDepth: 2, depthIdentifier: "pattern" },
      fc.array(operator, { minLength: 1, maxLength: 3 }) as fc.Arbitrary<EventPattern[string]>,
      tie("pattern"),
    ),
  })).pattern;
}
const pattern = patternOver(key);

/** An exact pattern built from the event's own leaves: one leaf per field, nested as the event is. */
function exactPatternOf(value: Record<string, Json>): EventPattern {
  const result: EventPattern = {};
  for (const [k, v] of Object.entries(value)) {
    const leaf = firstLeaf(v);
    if (leaf !== undefined) result[k] = [leaf];
    else if (v !== null && typeof v === "object" && !Array.isArray(v)) result[k] = exactPatternOf(v);
  }
  return result;
}

function firstLeaf(v: Json): string | number | boolean | null | undefined {
  if (!Array.isArray(v)) return v !== null && typeof v === "object" ? undefined : v;
  for (const element of v) {
    const leaf = firstLeaf(element);
    if (leaf !== undefined) return leaf;
  }
  return undefined;
}

describe("matchesPattern: properties", () => {
  it("generated patterns are valid", () => {
    fc.assert(fc.property(pattern, (p) => validatePattern(p)));
  });

  it("an exact pattern built from an event's own leaf values matches it", () => {
    fc.assert(fc.property(event, (e) => matchesPattern(exactPatternOf(e), e)));
  });

  it("adding a conjunct never turns a non-match into a match", () => {
    fc.assert(
      fc.property(pattern, patternOver(fc.constant("d")), event, (p, extra, e) => {
        const widened = { ...p, ...extra };
        if (!matchesPattern(p, e)) expect(matchesPattern(widened, e)).toBe(false);
        if (matchesPattern(widened, e)) expect(matchesPattern(p, e)).toBe(true);
      }),
    );
  });

  it("adding a $or conjunct never turns a non-match into a match", () => {
    fc.assert(
      fc.property(pattern, fc.array(pattern, { minLength: 2, maxLength: 3 }), event, (p, branches, e) => {
        fc.pre(!("$or" in p));
        if (!matchesPattern(p, e)) expect(matchesPattern({ ...p, $or: branches }, e)).toBe(false);
      }),
    );
  });

  it('{"anything-but": [v]} matches exactly when the field is present and [v] does not match', () => {
    const value = fc.oneof(text, fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(value, fc.option(scalar, { nil: undefined }), (v, leaf) => {
        const e = leaf === undefined ? {} : { f: leaf };
        const anythingBut = matchesPattern({ f: [{ "anything-but": [v] as string[] | number[] }] }, e);
        expect(anythingBut).toBe(leaf !== undefined && !matchesPattern({ f: [v] }, e));
      }),
    );
  });

  it("$or of patterns matches iff any one of them matches", () => {
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 2, maxLength: 4 }), event, (branches, e) => {
        expect(matchesPattern({ $or: branches }, e)).toBe(branches.some((b) => matchesPattern(b, e)));
      }),
    );
  });

  it("a list of values matches iff one of its values alone matches", () => {
    fc.assert(
      fc.property(key, fc.array(operator, { minLength: 2, maxLength: 4 }), event, (k, values, e) => {
        const whole = matchesPattern({ [k]: values } as EventPattern, e);
        const any = values.some((v) => matchesPattern({ [k]: [v] } as EventPattern, e));
        expect(whole).toBe(any);
      }),
    );
  });

  it("exists true and exists false split every event in two", () => {
    fc.assert(
      fc.property(key, key, event, (k1, k2, e) => {
        expect(matchesPattern({ [k1]: [{ exists: true }] }, e)).not.toBe(matchesPattern({ [k1]: [{ exists: false }] }, e));
        // Below an array of objects each element is tested on its own, so both may hold there.
        fc.pre(!Array.isArray(e[k1]));
        const present = matchesPattern({ [k1]: { [k2]: [{ exists: true }] } }, e);
        const absent = matchesPattern({ [k1]: { [k2]: [{ exists: false }] } }, e);
        expect(present).not.toBe(absent);
      }),
    );
  });
});
