/**
 * The SST stacks, synthesised offline (no AWS credentials, no network) and checked on their
 * CloudFormation: the resources an operator relies on exist, the routing rules are exactly the
 * core's, every asynchronous target can fail safely, and no policy grants a wildcard action.
 */
import type { AppDeps } from "@leadloop/api/app";
import { createApp } from "@leadloop/api/app";
import { handlerRules, type LeadloopConfig, loadConfigOrThrow, routingRules } from "@leadloop/core";
import { TABLE_INDEXES, tableDefinition, TTL_ATTRIBUTE } from "@leadloop/store/table";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { API_ROUTES } from "../../infra/api-stack";
import { HANDLER_FUNCTIONS } from "../../infra/nurture-stack";
import { synthesize } from "../../infra/synthesize";

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;

let config: LeadloopConfig;
let core: Template;
let api: Template;
let nurture: Template;
let all: Resources;

const ofType = (type: string) => Object.entries(all).filter(([, r]) => r.Type === type);
/** leadloop's own functions (SST adds a custom-resource handler per stack). */
const leadloopFunctions = () =>
  ofType("AWS::Lambda::Function").filter(([, f]) => String(f.Properties?.Handler).startsWith("functions/"));

beforeAll(async () => {
  process.env.LEADLOOP_SENDER = "Acme <hello@acme.example>";
  delete process.env.LEADLOOP_PUBLIC_URL;
  config = loadConfigOrThrow("config");
  const { stacks } = await synthesize({ stage: "test" });
  core = Template.fromStack(stacks.Core);
  api = Template.fromStack(stacks.ApiStack);
  nurture = Template.fromStack(stacks.NurtureStack);
  all = { ...(core.toJSON().Resources as Resources), ...(api.toJSON().Resources as Resources), ...(nurture.toJSON().Resources as Resources) };
}, 120_000);

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
  it("routes every path the hono app serves, all to one function", () => {
    api.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    const routes = ofType("AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties?.RouteKey);
    expect(new Set(routes)).toEqual(new Set(API_ROUTES));
    // A route added to the app without a route here would answer 404 from API Gateway.
    const app = createApp({ config, log: console, clientIp: () => "x" } as unknown as AppDeps);
    const served = app.routes
      .filter((r) => ["GET", "POST", "PUT", "PATCH", "DELETE"].includes(r.method))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    for (const route of served) expect(API_ROUTES).toContain(route);
    const integrations = ofType("AWS::ApiGatewayV2::Integration");
    expect(new Set(integrations.map(([, i]) => JSON.stringify(i.Properties?.IntegrationUri))).size).toBe(1);
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

  it("deploys the handler rules whose functions exist, with the core's patterns", () => {
    for (const rule of handlerRules().filter((r) => HANDLER_FUNCTIONS[r.target])) {
      const deployed = rules().filter(([, r]) => r.Targets[0]?.InputTransformer?.InputTemplate.includes(`"rule":"${rule.name}"`));
      expect(deployed, rule.name).toHaveLength(1);
      expect(deployed[0]?.[1].EventPattern).toEqual(rule.pattern);
    }
  });

  it("has one leadloop bus", () => {
    core.resourceCountIs("AWS::Events::EventBus", 1);
  });

  it("sweeps every minute with one sweeper at a time, republishes every five minutes and recycles every fifteen", () => {
    const schedules = rules().filter(([, r]) => r.ScheduleExpression).map(([, r]) => r.ScheduleExpression);
    expect(schedules.sort()).toEqual(["cron(*/5 * * * ? *)", "rate(1 minute)", "rate(15 minutes)", "rate(5 minutes)"]);
    const concurrency = leadloopFunctions().map(([, f]) => f.Properties?.ReservedConcurrentExecutions).filter(Boolean);
    expect(concurrency).toEqual([1, 1, 1, 1]);
  });
});

describe("SES", () => {
  it("publishes sends, deliveries, opens, clicks, bounces and complaints to the default bus", () => {
    core.resourceCountIs("AWS::SES::ConfigurationSet", 1);
    const [, destination] = ofType("AWS::SES::ConfigurationSetEventDestination")[0] ?? [];
    const props = destination?.Properties?.EventDestination as { Enabled: boolean; MatchingEventTypes: string[]; EventBridgeDestination: { EventBusArn: unknown } };
    expect(new Set(props.MatchingEventTypes)).toEqual(new Set(["send", "delivery", "open", "click", "bounce", "complaint"]));
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
    expect(asyncConfigs.length).toBe(leadloopFunctions().length - 1); // all but the API's
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
      ["api", "engagement", "enroll", "exit", "feedback", "handoff", "recycler", "report", "republisher", "sales-sla", "sweeper"].map((name) => `functions/${name}.handler`),
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

  it("lets only the functions that send email send it, as the stage's identity", () => {
    const sends = statements().filter((s) => [s.Action].flat().includes("ses:SendEmail"));
    expect(sends.map((s) => s.id).sort()).toEqual([expect.stringMatching(/^Enroll/), expect.stringMatching(/^Handoff/), expect.stringMatching(/^SalesSla/), expect.stringMatching(/^Sweeper/)]);
    for (const s of sends) expect(JSON.stringify(s.Resource)).toContain("identity/acme.example");
  });
});

describe("production stage", () => {
  it("retains and deletion-protects the table", async () => {
    const { stacks } = await synthesize({ stage: "prod" });
    const resources = Template.fromStack(stacks.Core).toJSON().Resources as Resources;
    const table = Object.values(resources).find((r) => r.Type === "AWS::DynamoDB::Table");
    expect(table?.DeletionPolicy).toBe("Retain");
    expect(table?.Properties?.DeletionProtectionEnabled).toBe(true);
  }, 120_000);
});
