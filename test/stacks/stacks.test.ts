/**
 * The SST stacks, synthesised offline (no AWS credentials, no network) and checked on their
 * CloudFormation: the resources an operator relies on exist, the routing rules are exactly the
 * core's, every asynchronous target can fail safely, and no policy grants a wildcard action.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AppDeps } from "@leadloop/api/app";
import { createApp } from "@leadloop/api/app";
import { createPublicApp } from "@leadloop/api/public-app";
import { createReportsApp, createStaffApp } from "@leadloop/api/staff-app";
import {
  allRules,
  CAPTURE_GRACE_MS,
  deliveryPolicy,
  HANDLERS,
  handlerFor,
  JOBS,
  type LeadloopConfig,
  loadConfigOrThrow,
  REGISTRY,
  routingRules,
  rulesOf,
  SCHEDULES,
  scheduleExpression,
  webhookSecretNames,
} from "@leadloop/core";
import * as registry from "@leadloop/core/registry";
import { TABLE_INDEXES, tableDefinition, TTL_ATTRIBUTE } from "@leadloop/store/table";
import { Aspects, App as CdkApp, Stack as CdkStack } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { EnvironmentError, parseEnvironment } from "../../functions/lib/environment";
import { runtimeAuthSettings } from "../../functions/lib/authenticator";
import { withConfigValues } from "../../functions/lib/runtime";
import { AUTH_SECRET_NAME, LEADLOOP_SECRET_NAMES, NO_AUTH_SECRET } from "../../functions/lib/secret-names";
import { resolveSlackWebhooks, SlackWebhookSecretError, slackWebhookNames } from "../../functions/lib/slack-webhooks";
import { API_ROUTES, PUBLIC_API_ROUTES, REPORT_API_ROUTES, STAFF_API_ROUTES } from "../../infra/api-stack";
import { CONFIG_SNAPSHOT_NAME } from "../../infra/config-snapshot";
import { leadloopChecks } from "../../infra/nag";
import {
  apiSurfaceOf,
  apiTableAccess,
  portsTableAccess,
  routesTableAccess,
  STORE_ACCESS,
  type TableAccess,
  type TableAction,
} from "../../infra/permissions";
import { synthesize } from "../../infra/synthesize";
import { type DeployedEnvironment, deployedEnvironment, resolveValue, secretStandIn } from "./deployed-environment";
import { describeFindings, type NagFinding, nagFindings } from "./nag-findings";

/**
 * The name under which the registry exports an entry on its own: the one its functions/<name>.ts
 * imports and passes to lambdaFor, so that function's bundle carries that entry alone.
 */
const entryExport = (name: string) => `${name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}Entry`;
/** The same for a schedule of several jobs (`republishersSchedule`). */
const scheduleExport = (name: string) => `${name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}Schedule`;

/**
 * The functions the registry deploys: one per rule target, one per schedule of jobs (a schedule
 * of one job is named after it), each with what its entries need together.
 */
const REGISTRY_FUNCTIONS = [
  ...HANDLERS.map((h) => ({ name: h.name, ports: [...h.ports], capabilities: [...h.capabilities] })),
  ...SCHEDULES.map((s) => ({
    name: s.name,
    ports: [...new Set(s.jobs.flatMap((j) => j.ports))],
    capabilities: [...new Set(s.jobs.flatMap((j) => j.capabilities))],
  })),
];

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;

let config: LeadloopConfig;
let core: Template;
let api: Template;
let nurture: Template;
let all: Resources;
let templates: { Resources: Resources; Outputs?: Record<string, { Value: unknown; Export?: { Name?: unknown } }> }[];
/** Where the cloud assembly keeps each asset, as `asset.<hash>` (a function's code is `<hash>.zip`). */
let assemblyDirectory: string;
/** What cdk-nag's rule packs reported on the test stage's stacks and left unsuppressed. */
let findings: NagFinding[];

const ofType = (type: string) => Object.entries(all).filter(([, r]) => r.Type === type);
/** leadloop's own functions (SST adds a custom-resource handler per stack). */
const leadloopFunctions = () =>
  ofType("AWS::Lambda::Function").filter(([, f]) => String(f.Properties?.Handler).startsWith("functions/"));

beforeAll(async () => {
  process.env.LEADLOOP_SENDER = "Acme <hello@acme.example>";
  delete process.env.LEADLOOP_PUBLIC_URL;
  config = loadConfigOrThrow("config");
  const { app, stacks } = await synthesize({ stage: "test" });
  // Before the first synthesis, which runs them (an app synthesises once).
  for (const check of leadloopChecks()) Aspects.of(app).add(check);
  core = Template.fromStack(stacks.Core);
  api = Template.fromStack(stacks.ApiStack);
  nurture = Template.fromStack(stacks.NurtureStack);
  templates = [core.toJSON(), api.toJSON(), nurture.toJSON(), Template.fromStack(stacks.MonitoringStack).toJSON()] as typeof templates;
  all = Object.assign({}, ...templates.map((t) => t.Resources)) as Resources;
  const assembly = app.synth();
  assemblyDirectory = assembly.directory;
  findings = nagFindings(assembly);
}, 480_000);

/** leadloop's functions with the template that holds each, and their handler's short name. */
const deployedFunctions = () =>
  templates.flatMap((template) =>
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type === "AWS::Lambda::Function" && String(r.Properties?.Handler).startsWith("functions/"))
      .map(([id, fn]) => {
        const handler = String(fn.Properties?.Handler).replace(/^functions\//, "").replace(/\.handler$/, "");
        const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
        return { id, fn, handler, template, environment: (): DeployedEnvironment => deployedEnvironment(variables, template, templates) };
      }),
  );

/** Handlers whose source calls `pattern`: what a function does decides what it is given. */
const handlersCalling = (pattern: RegExp) =>
  deployedFunctions()
    .filter(({ handler }) => pattern.test(readFileSync(join("functions", `${handler}.ts`), "utf8")))
    .map(({ handler }) => handler)
    .sort();

describe("table", () => {
  it("has the store's keys and indexes, on demand, with TTL and point-in-time recovery", () => {
    const definition = tableDefinition("any");
    const [, table] = ofType("AWS::DynamoDB::Table")[0] ?? [];
    const props = table?.Properties ?? {};
    expect(props.KeySchema).toEqual(definition.KeySchema);
    expect(new Set(props.AttributeDefinitions as unknown[])).toEqual(new Set(definition.AttributeDefinitions));
    const indexes = (props.GlobalSecondaryIndexes as { IndexName: string }[]).sort((a, b) => a.IndexName.localeCompare(b.IndexName));
    const expected = [...(definition.GlobalSecondaryIndexes ?? [])].sort((a, b) => (a.IndexName ?? "").localeCompare(b.IndexName ?? ""));
    expect(indexes).toEqual(expected);
    expect(indexes).toHaveLength(TABLE_INDEXES.length);
    expect(props.BillingMode).toBe("PAY_PER_REQUEST");
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it("is deleted with a non-production stage", () => {
    const [, table] = ofType("AWS::DynamoDB::Table")[0] ?? [];
    expect(table?.DeletionPolicy).toBe("Delete");
    expect(table?.Properties?.DeletionProtectionEnabled).toBe(false);
  });
});

describe("HTTP API", () => {
  it("routes the public paths to the public function, the reports to the reports function and the other staff paths to the staff function, every path an app serves", () => {
    api.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    const routes = ofType("AWS::ApiGatewayV2::Route");
    expect(new Set(routes.map(([, r]) => r.Properties?.RouteKey))).toEqual(new Set(API_ROUTES));
    // A route added to an app without a route here would answer 404 from API Gateway.
    const deps = { config, log: console, clientIp: () => "x" } as unknown as AppDeps;
    const served = (app: ReturnType<typeof createApp>) =>
      app.routes.filter((r) => ["GET", "POST", "PUT", "PATCH", "DELETE"].includes(r.method)).map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect(new Set(served(createPublicApp(deps)))).toEqual(new Set(PUBLIC_API_ROUTES));
    expect(new Set([...served(createStaffApp(deps)), "GET /health"])).toEqual(new Set([...STAFF_API_ROUTES, "GET /health"]));
    expect(new Set([...served(createReportsApp(deps)), "GET /health"])).toEqual(new Set([...REPORT_API_ROUTES, "GET /health"]));
    // The local stack serves every route from one process, with the same route code.
    expect(new Set(served(createApp(deps)))).toEqual(new Set(API_ROUTES));
    // Each route's integration invokes the function its app runs in.
    const integrations = new Map(ofType("AWS::ApiGatewayV2::Integration").map(([id, i]) => [id, JSON.stringify(i.Properties?.IntegrationUri)]));
    const functionOf = (target: unknown) => {
      const uri = integrations.get(String(target).replace(/^integrations\//, "")) ?? integrations.get(JSON.stringify(target).match(/"Ref":"([^"]+)"/)?.[1] ?? "");
      if (/"ReportsApiFunction[0-9A-F]{8}"/.test(uri ?? "")) return "reports";
      return /"(Staff)?ApiFunction[0-9A-F]{8}"/.exec(uri ?? "")?.[1] ? "staff" : /"ApiFunction[0-9A-F]{8}"/.test(uri ?? "") ? "public" : undefined;
    };
    for (const [, route] of routes) {
      const key = String(route.Properties?.RouteKey);
      const expected = (PUBLIC_API_ROUTES as readonly string[]).includes(key) ? "public" : (REPORT_API_ROUTES as readonly string[]).includes(key) ? "reports" : "staff";
      expect(functionOf(route.Properties?.Target), key).toBe(expected);
    }
    expect(new Set([...integrations.values()]).size).toBe(3);
  });

  it("lets every function that captures time out well within the capture's grace, so the republisher never takes a capture still publishing", () => {
    // The public function takes form posts; the staff function takes admin imports.
    for (const prefix of ["ApiFunction", "StaffApiFunction"]) {
      const [, fn] = leadloopFunctions().find(([id]) => id.startsWith(prefix)) ?? [];
      expect(Number(fn?.Properties?.Timeout) * 1000, prefix).toBeLessThan(CAPTURE_GRACE_MS / 2);
    }
  });

  it("answers CORS preflights for every origin a form allows and throttles the stage", () => {
    const origins = [...new Set(Object.values(config.forms).flatMap((f) => f.allowedOrigins))].sort();
    expect(origins.length).toBeGreaterThan(0);
    api.hasResourceProperties("AWS::ApiGatewayV2::Api", {
      CorsConfiguration: Match.objectLike({ AllowOrigins: origins, AllowMethods: ["GET", "POST"] }),
    });
    api.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
    });
  });
});

interface RuleProps {
  EventBusName?: unknown;
  EventPattern?: unknown;
  ScheduleExpression?: string;
  Targets: { Arn: unknown; RetryPolicy?: unknown; DeadLetterConfig?: { Arn: unknown }; InputTransformer?: { InputTemplate: string } }[];
}
const rules = () => ofType("AWS::Events::Rule").map(([id, r]) => [id, r.Properties as unknown as RuleProps] as const);

describe("event routing", () => {
  it("deploys one rule per routing rule of the core, with the core's pattern verbatim", () => {
    const expected = routingRules(config);
    expect(expected.length).toBe(config.sequences.length);
    const enrollRules = rules().filter(([, r]) => r.Targets.some((t) => t.InputTransformer?.InputTemplate.includes('"rule":"enroll-')));
    expect(enrollRules).toHaveLength(expected.length);
    for (const rule of expected) {
      const deployed = enrollRules.filter(([, r]) => r.Targets[0]?.InputTransformer?.InputTemplate.includes(`"rule":"${rule.name}"`));
      expect(deployed, rule.name).toHaveLength(1);
      expect(deployed[0]?.[1].EventPattern).toEqual(rule.pattern);
      expect(deployed[0]?.[1].EventBusName).toBeDefined();
    }
  });

  it("hands each target the whole event and its rule's name, as the local bus does", () => {
    const [, rule] = rules().find(([, r]) => r.Targets[0]?.InputTransformer?.InputTemplate.includes('"rule":"exit"')) ?? [];
    const transformer = rule?.Targets[0]?.InputTransformer as { InputTemplate: string; InputPathsMap: Record<string, string> };
    expect(Object.values(transformer.InputPathsMap)).toEqual(["$"]);
    const key = Object.keys(transformer.InputPathsMap)[0];
    expect(JSON.parse(transformer.InputTemplate.replace(`<${key}>`, '{"id":"e1"}'))).toEqual({ rule: "exit", event: { id: "e1" } });
  });

  /** The logical id of the function deployed for a registry entry (functions/<name>.handler). */
  const functionOf = (name: string) => deployedFunctions().find((f) => f.handler === name)?.id;

  it("gives every target of the core's rules a registry handler", () => {
    for (const rule of allRules(config)) expect(handlerFor(rule.target), `${rule.name} → ${rule.target}`).toBeDefined();
    // What the registry must hold; an entry dropped from it fails here, not silently in a stage.
    expect(REGISTRY.map((e) => e.name).sort()).toEqual(
      ["broadcasts", "claim-sla", "confirmations", "engagement", "enroll", "exit", "feedback", "follow-up", "handoff", "notification-retries", "outbox-republisher", "points-expiry", "qualification-republisher", "recycler", "report", "republisher", "sweeper", "webhook-retries", "webhooks"],
    );
  });

  it("deploys every registry handler with a rule per routing rule, under the rule's delivery policy", () => {
    for (const entry of HANDLERS) {
      const fnId = functionOf(entry.name);
      expect(fnId, `functions/${entry.name}.handler`).toBeDefined();
      const source = readFileSync(join("functions", `${entry.name}.ts`), "utf8");
      expect(source).toContain(`lambdaFor(${entryExport(entry.name)}, `);
      // Only a function whose entry may send email loads the SES client.
      expect(source, entry.name).toMatch(entry.capabilities.includes("send-email") ? /, sesMailer\);/ : /, noEmail\);/);
      expect((registry as Record<string, unknown>)[entryExport(entry.name)], entry.name).toBe(entry);
      const expected = rulesOf(entry, config);
      expect(expected.length, entry.name).toBeGreaterThan(0);
      for (const rule of expected) {
        const deployed = rules().filter(([, r]) => r.Targets[0]?.InputTransformer?.InputTemplate.includes(`"rule":"${rule.name}"`));
        expect(deployed, rule.name).toHaveLength(1);
        const [, props] = deployed[0]!;
        expect(props.EventPattern, rule.name).toEqual(rule.pattern);
        expect(JSON.stringify(props.Targets[0]?.Arn), rule.name).toContain(fnId!);
        const policy = deliveryPolicy(rule);
        expect(props.Targets[0]?.RetryPolicy, rule.name).toEqual({ MaximumRetryAttempts: policy.retryAttempts, MaximumEventAgeInSeconds: policy.maxEventAgeSeconds });
      }
    }
    // No rule left over that the registry does not know.
    const routed = rules().filter(([, r]) => r.Targets[0]?.InputTransformer);
    expect(routed).toHaveLength(allRules(config).length);
  });

  it("deploys every registry job on its schedule, one run at a time", () => {
    // Every job is run by exactly one schedule, at its own cadence.
    expect(SCHEDULES.flatMap((sc) => sc.jobs.map((j) => j.name)).sort()).toEqual(JOBS.map((j) => j.name).sort());
    for (const schedule of SCHEDULES) {
      for (const job of schedule.jobs) expect(job.everyMinutes, job.name).toBe(schedule.everyMinutes);
      const fnId = functionOf(schedule.name);
      expect(fnId, `functions/${schedule.name}.handler`).toBeDefined();
      const source = readFileSync(join("functions", `${schedule.name}.ts`), "utf8");
      if (schedule.jobs.length === 1) {
        expect(schedule.name).toBe(schedule.jobs[0]?.name);
        expect(source).toContain(`lambdaFor(${entryExport(schedule.name)}, `);
        expect((registry as Record<string, unknown>)[entryExport(schedule.name)], schedule.name).toBe(schedule.jobs[0]);
      } else {
        expect(source).toContain(`lambdaForSchedule(${scheduleExport(schedule.name)}, `);
        expect((registry as Record<string, unknown>)[scheduleExport(schedule.name)], schedule.name).toBe(schedule);
      }
      // Only a function one of whose jobs may send email loads the SES client.
      const sends = schedule.jobs.some((job) => job.capabilities.includes("send-email"));
      expect(source, schedule.name).toMatch(sends ? /, sesMailer\);/ : /, noEmail\);/);
      const scheduled = rules().filter(([, r]) => r.ScheduleExpression && JSON.stringify(r.Targets[0]?.Arn).includes(fnId!));
      expect(scheduled.map(([, r]) => r.ScheduleExpression), schedule.name).toEqual([scheduleExpression(schedule)]);
      const [, fn] = leadloopFunctions().find(([id]) => id === fnId) ?? [];
      expect(fn?.Properties?.ReservedConcurrentExecutions, schedule.name).toBe(1);
      expect(fn?.Properties?.Timeout, schedule.name).toBe(Math.max(...schedule.jobs.map((j) => j.timeoutSeconds)));
    }
  });

  it("has one leadloop bus", () => {
    core.resourceCountIs("AWS::Events::EventBus", 1);
  });

  it("sweeps, sends broadcasts and retries webhooks every minute, recycles and expires points every fifteen, and runs the republishers, the sales checks and the confirmations every five, one function each", () => {
    const schedules = rules().filter(([, r]) => r.ScheduleExpression).map(([, r]) => r.ScheduleExpression);
    expect(schedules.sort()).toEqual(["rate(1 minute)", "rate(1 minute)", "rate(1 minute)", "rate(15 minutes)", "rate(15 minutes)", "rate(5 minutes)", "rate(5 minutes)", "rate(5 minutes)"]);
    const concurrency = leadloopFunctions().map(([, f]) => f.Properties?.ReservedConcurrentExecutions).filter(Boolean);
    expect(concurrency).toEqual(SCHEDULES.map(() => 1));
  });
});

describe("SES", () => {
  it("publishes to the default bus only what leadloop reads: opens, clicks, bounces and complaints (no scoring rule scores a delivery)", () => {
    core.resourceCountIs("AWS::SES::ConfigurationSet", 1);
    const [, destination] = ofType("AWS::SES::ConfigurationSetEventDestination")[0] ?? [];
    const props = destination?.Properties?.EventDestination as { Enabled: boolean; MatchingEventTypes: string[]; EventBridgeDestination: { EventBusArn: unknown } };
    expect(new Set(props.MatchingEventTypes)).toEqual(new Set(["open", "click", "bounce", "complaint"]));
    expect(JSON.stringify(props.EventBridgeDestination.EventBusArn)).toContain("event-bus/default");
  });

  it("forwards this configuration set's events from the default bus to the leadloop bus", () => {
    const forward = rules().filter(([, r]) => JSON.stringify(r.EventPattern ?? {}).includes("ses:configuration-set"));
    expect(forward).toHaveLength(1);
    const [, rule] = forward[0]!;
    expect(rule.EventBusName).toBe("default");
    expect((rule.EventPattern as { source: string[] }).source).toEqual(["aws.ses"]);
    expect(JSON.stringify(rule.Targets[0]?.Arn)).toContain("Bus");
  });
});

describe("failure handling", () => {
  it("gives every rule target a dead-letter queue, and every Lambda target a retry policy", () => {
    const targets = rules().flatMap(([, r]) => r.Targets);
    expect(targets.length).toBeGreaterThan(routingRules(config).length);
    for (const target of targets) expect(target.DeadLetterConfig?.Arn).toBeDefined();
    const lambdaTargets = targets.filter((t) => JSON.stringify(t.Arn).includes("Arn") && !JSON.stringify(t.Arn).includes("Bus"));
    for (const target of lambdaTargets) expect(target.RetryPolicy).toBeDefined();
  });

  it("sends events a handler kept failing on to a queue, and alarms on every queue and every function", () => {
    const asyncConfigs = ofType("AWS::Lambda::EventInvokeConfig");
    expect(asyncConfigs.length).toBe(leadloopFunctions().length - 3); // all but the three HTTP API functions
    for (const [, c] of asyncConfigs) {
      expect(c.Properties?.DestinationConfig).toMatchObject({ OnFailure: { Destination: expect.anything() } });
      expect(c.Properties?.MaximumRetryAttempts).toBeDefined();
    }
    const alarms = ofType("AWS::CloudWatch::Alarm").map(([, a]) => a.Properties ?? {});
    for (const [queueId] of ofType("AWS::SQS::Queue")) {
      const alarm = alarms.find((a) => a.MetricName === "ApproximateNumberOfMessagesVisible" && JSON.stringify(a.Dimensions).includes(queueId));
      expect(alarm, queueId).toMatchObject({ Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
    }
    for (const [fnId] of leadloopFunctions()) {
      const alarm = alarms.find((a) => a.MetricName === "Errors" && JSON.stringify(a.Dimensions).includes(fnId));
      expect(alarm, fnId).toBeDefined();
    }
  });
});

describe("functions", () => {
  it("run Node.js 22 with the secret fetched at start-up, never in the template", () => {
    const functions = leadloopFunctions();
    expect(functions.map(([, f]) => f.Properties?.Handler).sort()).toEqual(
      ["api", "reports-api", "staff-api", ...REGISTRY_FUNCTIONS.map((e) => e.name)].sort().map((name) => `functions/${name}.handler`),
    );
    for (const [id, fn] of functions) {
      expect(fn.Properties?.Runtime, id).toBe("nodejs22.x");
      const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
      expect(variables.SST_Secret_value_TOKEN_SIGNING_KEY, id).toBe("__FETCH_FROM_SSM__");
      expect(variables.SST_Secret_value_LEAD_ID_KEY, id).toBe("__FETCH_FROM_SSM__");
      expect(variables.TABLE_NAME, id).toBeDefined();
      expect(variables.PUBLIC_URL, id).toBeDefined();
    }
  });
});

describe("function environments", () => {
  it("every function's environment parses with the runtime's own schema, secrets read from SSM", () => {
    const functions = deployedFunctions();
    expect(functions.length).toBe(3 + REGISTRY_FUNCTIONS.length);
    for (const { id, environment } of functions) {
      const { variables, lookup } = environment();
      const parsed = parseEnvironment(withConfigValues(variables, lookup));
      expect(parsed.LEAD_ID_KEY, id).toBe(secretStandIn("LEAD_ID_KEY"));
      expect(parsed.TOKEN_SIGNING_KEY, id).toBe(secretStandIn("TOKEN_SIGNING_KEY"));
      expect(parsed.SENDER, id).toBe("Acme <hello@acme.example>");
      expect(new URL(parsed.PUBLIC_URL).protocol, id).toBe("https:");
    }
  });

  it("fails offline, naming the variable, when a function lacks one", () => {
    const [first] = deployedFunctions();
    const { variables, lookup } = first!.environment();
    const { TABLE_NAME: _table, ...withoutTable } = variables;
    expect(() => parseEnvironment(withConfigValues(withoutTable, lookup))).toThrow(/TABLE_NAME is not set/);
    const unbound = (name: string) => (name === "LEAD_ID_KEY" ? undefined : lookup(name));
    expect(() => parseEnvironment(withConfigValues(variables, unbound))).toThrow(EnvironmentError);
  });

  it("ships the config snapshot beside every function's code", () => {
    for (const { id, fn } of deployedFunctions()) {
      const key = String((fn.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key);
      const directory = join(assemblyDirectory, `asset.${key.replace(/\.zip$/, "")}`);
      expect(existsSync(join(directory, String(fn.Properties?.Handler).replace(/\.handler$/, ".mjs"))), `${id}'s bundle in ${directory}`).toBe(true);
      expect(existsSync(join(directory, CONFIG_SNAPSHOT_NAME)), `${id} ships ${CONFIG_SNAPSHOT_NAME}`).toBe(true);
    }
  });

  it("puts no secret in a plain variable", () => {
    for (const { id, environment } of deployedFunctions()) {
      const { variables } = environment();
      for (const [name, value] of Object.entries(variables)) {
        expect(name, id).not.toMatch(/SECRET|_KEY$|WEBHOOK|TOKEN/);
        expect(value, `${id} ${name}`).not.toMatch(/hooks\.slack\.com/);
      }
    }
  });
});

describe("secrets", () => {
  it("binds the HS256 bearer-token secret to the staff API function alone, read from SSM", () => {
    // staffAppDeps (functions/lib/staff-deps.ts) builds the authenticator for the staff functions.
    expect(handlersCalling(/useAuthenticator\(|staffAppDeps\(/)).toEqual(["reports-api", "staff-api"]);
    for (const { id, handler, environment } of deployedFunctions()) {
      const { variables, bound, lookup } = environment();
      expect(Object.keys(variables), id).not.toContain("LEADLOOP_AUTH_SECRET");
      if (handler === "staff-api" || handler === "reports-api") {
        expect(bound).toContain(AUTH_SECRET_NAME);
        // The test stage names no OIDC issuer: the bound secret alone opens the token routes.
        expect(runtimeAuthSettings(variables, lookup(AUTH_SECRET_NAME))).toMatchObject({ hs256Secret: secretStandIn(AUTH_SECRET_NAME), audience: "leadloop" });
        expect(runtimeAuthSettings(variables, NO_AUTH_SECRET)).toBeUndefined();
      } else {
        expect(bound, id).not.toContain(AUTH_SECRET_NAME);
      }
    }
  });

  it("binds each team's Slack webhook secret to exactly the functions that notify reps", () => {
    const names = slackWebhookNames(config.teams.teams, LEADLOOP_SECRET_NAMES);
    expect(names).toEqual(["SLACK_WEBHOOK_ENTERPRISE_NA"]);
    // The registry says which entries notify reps; the API does not.
    const notifying = REGISTRY_FUNCTIONS.filter((e) => e.capabilities.includes("slack")).map((e) => e.name).sort();
    expect(notifying).toEqual(["handoff", "sales-checks"]);
    for (const { id, handler, environment } of deployedFunctions()) {
      const { variables, bound, lookup } = environment();
      for (const name of names) expect(Object.keys(variables), id).not.toContain(name);
      if (notifying.includes(handler)) {
        expect(bound, id).toEqual(expect.arrayContaining(names));
        expect(Object.keys(resolveSlackWebhooks(names, lookup)), id).toEqual(names);
      } else {
        for (const name of names) expect(bound, id).not.toContain(name);
        expect(() => resolveSlackWebhooks(names, lookup), id).toThrow(SlackWebhookSecretError);
      }
    }
  });

  it("binds nothing but leadloop's own secrets, the teams' Slack secrets and the webhook endpoints' secrets", () => {
    const known = [...LEADLOOP_SECRET_NAMES, ...slackWebhookNames(config.teams.teams), ...webhookSecretNames(config.webhooks?.endpoints ?? [])];
    for (const { id, environment } of deployedFunctions()) {
      const { bound } = environment();
      expect(bound, id).toEqual(expect.arrayContaining(["LEAD_ID_KEY", "SENDER", "TOKEN_SIGNING_KEY"]));
      for (const name of bound) expect(known, id).toContain(name);
    }
  });
});

describe("IAM", () => {
  const statements = () =>
    [...ofType("AWS::IAM::Policy"), ...ofType("AWS::IAM::Role")].flatMap(([id, r]) => {
      const documents = r.Type === "AWS::IAM::Policy" ? [r.Properties?.PolicyDocument] : ((r.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((p) => p.PolicyDocument);
      return documents.flatMap((d) => ((d as { Statement: { Action: string | string[]; Resource?: unknown }[] })?.Statement ?? []).map((s) => ({ id, ...s })));
    });

  it("grants no wildcard action anywhere", () => {
    const all = statements();
    expect(all.length).toBeGreaterThan(5);
    for (const statement of all) {
      for (const action of [statement.Action].flat()) expect(action, statement.id).not.toContain("*");
    }
  });

  it("grants no action on every resource", () => {
    for (const statement of statements()) expect([statement.Resource].flat(), `${statement.id} ${JSON.stringify(statement.Action)}`).not.toContain("*");
  });

  /** The functions (by logical id prefix) whose policies allow the action. */
  const allowed = (action: string) =>
    statements()
      .filter((s) => [s.Action].flat().includes(action))
      .map((s) => s.id.replace(/(ServiceRole|Role)?(DefaultPolicy)?[0-9A-F]{8}$/, "").replace(/(ServiceRole|Role)(DefaultPolicy)?$/, ""))
      .sort();

  it("lets only the functions that send email send it, as the stage's identity", () => {
    // StaffApi: a points booking that changes a customer's tier sends the tier-change email, and the
    // preview test-sends; the public Api sends nothing. Confirmations resends a double-opt-in
    // email that failed.
    expect(allowed("ses:SendEmail")).toEqual(["Broadcasts", "Confirmations", "Enroll", "FollowUp", "Handoff", "PointsExpiry", "SalesChecks", "StaffApiFunction", "Sweeper"]);
    for (const s of statements().filter((s) => [s.Action].flat().includes("ses:SendEmail"))) {
      const resources = [s.Resource].flat().map((r) => resolveValue(r, templates[0]!, templates));
      expect(resources).toHaveLength(2);
      expect(resources[0]).toMatch(/:identity\/acme\.example$/);
      expect(resources[1]).toMatch(/:configuration-set\/EmailEvents/);
    }
  });

  it("lets only the functions that publish put events, on the leadloop bus", () => {
    // SesEventsToBus: the default bus's rule forwarding this stage's SES events to the leadloop bus.
    expect(allowed("events:PutEvents")).toEqual([
      "ApiFunction",
      "Broadcasts",
      "Engagement",
      "Feedback",
      "Handoff",
      "PointsExpiry",
      "Recycler",
      "Republishers",
      "SalesChecks",
      "SesEventsToBusEvents",
      "StaffApiFunction",
      "Sweeper",
    ]);
    expect(allowed("dynamodb:PutItem")).toHaveLength(3 + REGISTRY_FUNCTIONS.length);
  });

  it("lets each function read the SSM parameters of exactly the secrets it binds", () => {
    for (const { id, environment } of deployedFunctions()) {
      const secrets = environment().bound.filter((name) => name !== "SENDER");
      const readable = statements()
        // The policy's own function only ("Report" is a prefix of "ReportsApiFunction").
        .filter((s) => s.id.replace(/(ServiceRole|Role)?(DefaultPolicy)?[0-9A-F]{8}$/, "").replace(/(ServiceRole|Role)(DefaultPolicy)?$/, "") === id.replace(/[0-9A-F]{8}$/, "") && [s.Action].flat().includes("ssm:GetParameters"))
        .flatMap((s) => [s.Resource].flat().map((r) => resolveValue(r, templates[0]!, templates)));
      const names = new Set(readable.map((arn) => /\/Secret\/([^/]+)\/value$/.exec(arn)?.[1]));
      expect([...names].sort(), id).toEqual([...secrets].sort());
    }
  });
});

describe("production stage, with a Cognito user pool for reps", () => {
  const ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123";
  let prod: { Resources: Resources }[];
  let prodFindings: NagFinding[];

  beforeAll(async () => {
    Object.assign(process.env, { LEADLOOP_AUTH_OIDC_ISSUER: ISSUER, LEADLOOP_AUTH_ROLES_CLAIM: "cognito:groups", LEADLOOP_AUTH_AUDIENCE: "client-123" });
    try {
      const { app, stacks } = await synthesize({ stage: "prod" });
      for (const check of leadloopChecks()) Aspects.of(app).add(check);
      prod = [stacks.Core, stacks.ApiStack, stacks.NurtureStack].map((stack) => Template.fromStack(stack).toJSON() as { Resources: Resources });
      prodFindings = nagFindings(app.synth());
    } finally {
      for (const name of ["LEADLOOP_AUTH_OIDC_ISSUER", "LEADLOOP_AUTH_ROLES_CLAIM", "LEADLOOP_AUTH_AUDIENCE"]) delete process.env[name];
    }
  }, 480_000);

  it("passes cdk-nag's AwsSolutions and Serverless packs, every accepted finding explained in infra/nag.ts", () => {
    expect(describeFindings(prodFindings)).toBe("");
  });

  it("retains and deletion-protects the table", () => {
    const table = Object.values(prod[0]!.Resources).find((r) => r.Type === "AWS::DynamoDB::Table");
    expect(table?.DeletionPolicy).toBe("Retain");
    expect(table?.Properties?.DeletionProtectionEnabled).toBe(true);
  });

  it("verifies the pool's tokens, roles from cognito:groups, with AUTH_HS256_SECRET set to none", () => {
    const [, fn] = Object.entries(prod[1]!.Resources).find(([id, r]) => id.startsWith("StaffApiFunction") && r.Type === "AWS::Lambda::Function") ?? [];
    const variables = (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const { variables: plain, bound } = deployedEnvironment(variables, prod[1]!, prod);
    expect(bound).toContain(AUTH_SECRET_NAME);
    expect(runtimeAuthSettings(plain, NO_AUTH_SECRET)).toEqual({
      // The issuer leadloop's own HS256 tokens carry (required of every token; unused here, as HS256 is off).
      issuer: "leadloop",
      jwksUrl: `${ISSUER}/.well-known/jwks.json`,
      oidcIssuer: ISSUER,
      rolesClaim: "cognito:groups",
      audience: "client-123",
    });
  });
});

describe("monitoring", () => {
  const alarms = () => ofType("AWS::CloudWatch::Alarm").map(([, a]) => a.Properties ?? {});
  it("alarms on SES reputation below SES's review thresholds, API 5xx and p99, throttles and sweeper lag", () => {
    const byMetric = (name: string) => alarms().filter((a) => a.MetricName === name || JSON.stringify(a.Metrics ?? []).includes(name));
    expect(byMetric("Reputation.BounceRate")[0]).toMatchObject({ Namespace: "AWS/SES", Threshold: 0.025 });
    expect(byMetric("Reputation.ComplaintRate")[0]).toMatchObject({ Namespace: "AWS/SES", Threshold: 0.0005 });
    expect(byMetric("5xx")).toHaveLength(1);
    expect(byMetric("Latency")[0]).toMatchObject({ ExtendedStatistic: "p99" });
    expect(byMetric("ReadThrottleEvents")).toHaveLength(1);
    expect(byMetric("WriteThrottleEvents")).toHaveLength(1);
    expect(byMetric("DueLagSeconds")[0]).toMatchObject({
      Namespace: "leadloop",
      TreatMissingData: "breaching",
      Dimensions: expect.arrayContaining([{ Name: "job", Value: "sweeper" }, { Name: "stage", Value: "test" }]),
    });
  });

  it("draws one dashboard for the stage", () => {
    const dashboards = ofType("AWS::CloudWatch::Dashboard");
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.[1].Properties?.DashboardName).toBe("leadloop-test");
  });

  it("verifies the sender's domain with Easy DKIM and a custom MAIL FROM, sending through the configuration set", () => {
    const [, identity] = ofType("AWS::SES::EmailIdentity")[0] ?? [];
    expect(identity?.Properties).toMatchObject({
      EmailIdentity: "acme.example",
      MailFromAttributes: { MailFromDomain: "mail.acme.example" },
      DkimSigningAttributes: { NextSigningKeyLength: "RSA_2048_BIT" },
    });
    expect(ofType("AWS::SES::ConfigurationSet")[0]?.[1].Properties).toMatchObject({ ReputationOptions: { ReputationMetricsEnabled: true } });
  });
});

describe("cdk-nag", () => {
  it("finds nothing unexplained: AwsSolutions and Serverless packs on every stack, each accepted finding reasoned in infra/nag.ts", () => {
    expect(describeFindings(findings)).toBe("");
  });

  it("reports a finding nobody accepted", () => {
    // A bare stack with a queue that takes plain HTTP and has no dead-letter queue: the same packs
    // and the same reading of the assembly must name both.
    const app = new CdkApp();
    const stack = new CdkStack(app, "nag-probe");
    new sqs.Queue(stack, "Plain");
    for (const check of leadloopChecks()) Aspects.of(app).add(check);
    const reported = nagFindings(app.synth()).map((f) => f.message.split(":")[0]);
    expect(reported).toEqual(expect.arrayContaining(["AwsSolutions-SQS3", "AwsSolutions-SQS4", "Serverless-SQSRedrivePolicy"]));
  });

  it("records each accepted finding in the template, with its reason", () => {
    // The accepted ones are recorded as suppressed, with their reasons, in each template's metadata.
    const suppressed = Object.values(all).flatMap((r) => ((r as { Metadata?: { cdk_nag?: { rules_to_suppress?: { id: string; reason: string }[] } } }).Metadata?.cdk_nag?.rules_to_suppress ?? []));
    expect(suppressed.map((s) => s.id)).toEqual(expect.arrayContaining(["AwsSolutions-APIG4", "Serverless-LambdaTracing", "AwsSolutions-SQS3"]));
    for (const s of suppressed) expect(s.reason.length, s.id).toBeGreaterThan(40);
  });
});

describe("least privilege", () => {
  type Statement = { Effect: string; Action: string | string[]; Resource?: unknown };
  const DYNAMODB = /^dynamodb:/;

  /** The logical id of the function's role. */
  const roleOf = (fn: { Properties?: Record<string, unknown> }): string => (fn.Properties?.Role as { "Fn::GetAtt"?: [string, string] } | undefined)?.["Fn::GetAtt"]?.[0] ?? "";
  /** Every statement the function's role carries: its inline policies and the policies attached to it. */
  const roleStatements = (fn: { Properties?: Record<string, unknown> }, template: { Resources: Resources }): Statement[] => {
    const roleId = roleOf(fn);
    const role = template.Resources[roleId];
    const inline = ((role?.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []).flatMap((p) => p.PolicyDocument.Statement);
    const attached = Object.values(template.Resources)
      .filter((r) => r.Type === "AWS::IAM::Policy" && JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((r) => (r.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? []);
    return [...inline, ...attached];
  };
  const actionsOf = (statements: Statement[], pattern: RegExp) =>
    [...new Set(statements.flatMap((s) => [s.Action].flat()).filter((a) => pattern.test(a)))].sort();
  /** `<table>` and `<table>/index/<name>`, whatever the table's logical id. */
  const tableResourcesOf = (statements: Statement[], template: { Resources: Resources }) =>
    statements
      .filter((s) => [s.Action].flat().some((a) => DYNAMODB.test(a)))
      .flatMap((s) => [s.Resource].flat().map((r) => resolveValue(r, template, templates).replace(/^.*?Table[0-9A-F]{8}\.Arn/, "<table>").replace(/^.*:table\/[^/]+/, "<table>")))
      .sort();

  /** The routes API Gateway hands to each function, by the function's logical id. */
  const routesByFunction = () => {
    const resources = templates[1]!.Resources;
    const byFunction = new Map<string, string[]>();
    for (const route of Object.values(resources).filter((r) => r.Type === "AWS::ApiGatewayV2::Route")) {
      const integrationId = /integrations\/(\w+)/.exec(resolveValue(route.Properties?.Target, templates[1]!, templates))?.[1] ?? "";
      const uri = JSON.stringify(resources[integrationId]?.Properties?.IntegrationUri);
      const fnId = Object.keys(resources).find((id) => resources[id]?.Type === "AWS::Lambda::Function" && uri.includes(`"${id}"`)) ?? "?";
      byFunction.set(fnId, [...(byFunction.get(fnId) ?? []), String(route.Properties?.RouteKey)]);
    }
    return byFunction;
  };

  const expectedTable = (access: TableAccess) => ({
    actions: access.actions.map((a) => `dynamodb:${a}`).sort(),
    resources: ["<table>", ...access.indexes.map((i) => `<table>/index/${i}`)].sort(),
  });

  it("gives each registry function the DynamoDB actions of its ports' adapters, on the table and the indexes they query", () => {
    for (const entry of REGISTRY_FUNCTIONS) {
      const deployed = deployedFunctions().find((f) => f.handler === entry.name);
      expect(deployed, entry.name).toBeDefined();
      const statements = roleStatements(deployed!.fn, deployed!.template);
      expect({ actions: actionsOf(statements, DYNAMODB), resources: tableResourcesOf(statements, deployed!.template) }, entry.name).toEqual(
        expectedTable(portsTableAccess(entry.ports)),
      );
    }
    // What that means for the table's two dangerous actions.
    const holding = (action: string) =>
      deployedFunctions().filter(({ fn, template }) => actionsOf(roleStatements(fn, template), DYNAMODB).includes(action)).map((f) => f.handler).sort();
    // The staff API's GDPR export and erase; the public API holds neither.
    expect(holding("dynamodb:Scan")).toEqual(["broadcasts", "staff-api"]);
    expect(holding("dynamodb:BatchWriteItem")).toEqual(["confirmations", "staff-api"]);
  });

  it("gives each API function the DynamoDB actions of the route families it serves; the public routes can neither Scan nor delete", () => {
    const byFunction = routesByFunction();
    expect([...byFunction.values()].flat().sort()).toEqual([...API_ROUTES].sort());
    for (const [fnId, routes] of byFunction) {
      const deployed = deployedFunctions().find((f) => f.id === fnId)!;
      const statements = roleStatements(deployed.fn, deployed.template);
      expect({ actions: actionsOf(statements, DYNAMODB), resources: tableResourcesOf(statements, deployed.template) }, fnId).toEqual(
        expectedTable(routesTableAccess(routes)),
      );
    }
    // Capture, site events, unsubscribe and confirm: a function serving only these holds no
    // Scan, DeleteItem or BatchWriteItem (today one function serves every route, admin ones too).
    const publicAccess = apiTableAccess("public");
    expect(publicAccess.actions).not.toContain("Scan");
    expect(publicAccess.actions).not.toContain("DeleteItem");
    expect(publicAccess.actions).not.toContain("BatchWriteItem");
    expect(publicAccess.actions).toEqual(["GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "ConditionCheckItem"]);
    for (const route of ["POST /v1/forms/{formId}/submissions", "POST /v1/events", "POST /v1/unsubscribe", "POST /v1/confirm"]) expect(apiSurfaceOf(route), route).toBe("public");
    for (const route of ["DELETE /v1/leads/{id}", "POST /v1/broadcasts/{id}/dry-run", "GET /v1/sales/queue"]) expect(apiSurfaceOf(route), route).toBe("authenticated");
    expect(apiTableAccess("authenticated").actions).toEqual(expect.arrayContaining(["Scan", "DeleteItem", "BatchWriteItem"]));
  });

  it("declares what each store adapter calls as its source calls it", () => {
    const COMMAND_ACTIONS: Record<string, TableAction> = {
      GetCommand: "GetItem",
      BatchGetCommand: "BatchGetItem",
      QueryCommand: "Query",
      ScanCommand: "Scan",
      PutCommand: "PutItem",
      UpdateCommand: "UpdateItem",
      DeleteCommand: "DeleteItem",
      BatchWriteCommand: "BatchWriteItem",
    };
    const TRANSACTION_ACTIONS: Record<string, TableAction> = { Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem", ConditionCheck: "ConditionCheckItem" };
    const directory = join("packages", "store", "src");
    const adapters = readdirSync(directory).filter((f) => /^(dynamo-.*|pending-events)\.ts$/.test(f) && !f.endsWith(".test.ts")).map((f) => f.replace(/\.ts$/, ""));
    expect(Object.keys(STORE_ACCESS).sort(), "every adapter module is declared in infra/permissions.ts STORE_ACCESS").toEqual(adapters.sort());
    for (const [module, declared] of Object.entries(STORE_ACCESS)) {
      const source = readFileSync(join(directory, `${module}.ts`), "utf8");
      const actions = new Set<TableAction>();
      for (const [, command] of source.matchAll(/\bnew (\w+Command)\(/g)) if (COMMAND_ACTIONS[command!]) actions.add(COMMAND_ACTIONS[command!]!);
      if (/\bnew TransactWriteCommand\(|pendingEventPut\(/.test(source)) {
        for (const [, kind] of source.matchAll(/\{\s*(Put|Update|Delete|ConditionCheck):/g)) actions.add(TRANSACTION_ACTIONS[kind!]!);
        if (/pendingEventPut\(/.test(source)) actions.add("PutItem");
      }
      if (/\bqueryShards?\(/.test(source)) actions.add("Query");
      const indexes = new Set([...source.matchAll(/\b(?:IndexName|index):\s*"(\w+)"/g)].map((m) => m[1]));
      expect({ actions: [...actions].sort(), indexes: [...indexes].sort() }, `${module}.ts`).toEqual({ actions: [...declared.actions].sort(), indexes: [...declared.indexes].sort() });
    }
  });

  it("lets each function write only to its own log group, with no managed policy", () => {
    for (const { id, fn, template } of deployedFunctions()) {
      expect(template.Resources[roleOf(fn)]?.Properties?.ManagedPolicyArns, id).toBeUndefined();
      const logGroup = (fn.Properties?.LoggingConfig as { LogGroup?: { Ref: string } } | undefined)?.LogGroup?.Ref;
      expect(template.Resources[logGroup ?? ""]?.Type, id).toBe("AWS::Logs::LogGroup");
      const logs = roleStatements(fn, template).filter((s) => [s.Action].flat().some((a) => a.startsWith("logs:")));
      expect(logs.flatMap((s) => [s.Action].flat()).sort(), id).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
      expect(logs.flatMap((s) => [s.Resource].flat()), id).toEqual([{ "Fn::GetAtt": [logGroup, "Arn"] }]);
    }
  });

  it("keeps every log group a month, the API's access log (callers' addresses) included, which logs JSON", () => {
    const groups = ofType("AWS::Logs::LogGroup");
    expect(groups.length).toBe(deployedFunctions().length + 1);
    for (const [id, group] of groups) expect(group.Properties?.RetentionInDays, id).toBe(30);
    const [, stage] = ofType("AWS::ApiGatewayV2::Stage")[0] ?? [];
    const accessLog = stage?.Properties?.AccessLogSettings as { DestinationArn: { "Fn::GetAtt": [string, string] }; Format: string };
    expect(all[accessLog.DestinationArn["Fn::GetAtt"][0]]?.Properties?.RetentionInDays).toBe(30);
    expect(Object.keys(JSON.parse(accessLog.Format) as object)).toEqual(expect.arrayContaining(["requestId", "routeKey", "status", "ip"]));
  });
});
