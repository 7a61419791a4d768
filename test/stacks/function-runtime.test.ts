/**
 * What the functions read at start-up: the environment fails fast naming what is missing, and the
 * config snapshot the stacks ship is the validated config, unchanged by the trip through JSON.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigOrThrow } from "@leadloop/core";
import { describe, expect, it } from "vitest";
import { readBoundValues, type SsmFetch } from "../../functions/lib/bound-values";
import { EnvironmentError, parseEnvironment } from "../../functions/lib/environment";
import { runtimeAuthSettings } from "../../functions/lib/authenticator";
import { readConfigSnapshot } from "../../functions/lib/runtime";
import { LEADLOOP_SECRET_NAMES, NO_AUTH_SECRET } from "../../functions/lib/secret-names";
import { resolveSlackWebhooks, SlackWebhookNameError, slackWebhookNames } from "../../functions/lib/slack-webhooks";
import { writeConfigSnapshot } from "../../infra/config-snapshot";
import { authEnvironment, parseStageSettings, StageSettingsError } from "../../infra/stage-settings";

const complete = {
  TABLE_NAME: "t",
  EVENT_BUS_NAME: "b",
  SES_CONFIGURATION_SET: "c",
  PUBLIC_URL: "https://api.example.com",
  SENDER: "Acme <hello@acme.example>",
  TOKEN_SIGNING_KEY: "0123456789abcdef0123",
  LEAD_ID_KEY: "fedcba98765432100123",
};

describe("function environment", () => {
  it("parses a complete environment", () => {
    expect(parseEnvironment(complete)).toMatchObject({ TABLE_NAME: "t", CONFIG_FILE: "leadloop-config.json" });
  });

  it("names every missing variable, and says where the secret is set", () => {
    const { TABLE_NAME: _t, TOKEN_SIGNING_KEY: _k, ...rest } = complete;
    const error = (() => {
      try {
        parseEnvironment(rest);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).problems).toEqual([
      "TABLE_NAME is not set",
      expect.stringMatching(/^TOKEN_SIGNING_KEY is not set; .*npx sst secrets set TOKEN_SIGNING_KEY/),
    ]);
  });

  it("asks for the lead-id key, says it is never changed, and refuses a short one", () => {
    const { LEAD_ID_KEY: _l, ...rest } = complete;
    expect(() => parseEnvironment(rest)).toThrow(/LEAD_ID_KEY is not set; .*never changed: npx sst secrets set LEAD_ID_KEY/);
    expect(() => parseEnvironment({ ...complete, LEAD_ID_KEY: "short" })).toThrow(/LEAD_ID_KEY is not valid/);
  });

  it("refuses a malformed value", () => {
    expect(() => parseEnvironment({ ...complete, PUBLIC_URL: "not a url" })).toThrow(/PUBLIC_URL is not valid/);
  });
});

describe("config snapshot", () => {
  it("is the loaded config, unchanged by JSON", () => {
    const root = process.cwd();
    const outDir = mkdtempSync(join(tmpdir(), "snapshot-"));
    const { file } = writeConfigSnapshot({ root, outDir });
    expect(readConfigSnapshot(join(root, file))).toEqual(loadConfigOrThrow("config"));
  });
});

describe("stage settings", () => {
  it("derives the SES identity from the sender's domain", () => {
    expect(parseStageSettings({ LEADLOOP_SENDER: "Acme <hello@acme.example>" })).toMatchObject({ sesIdentity: "acme.example", senderAddress: "hello@acme.example" });
  });

  it("requires a sender", () => {
    expect(() => parseStageSettings({})).toThrow(StageSettingsError);
  });
});

describe("bearer-token settings in AWS", () => {
  const SECRET = "an-hs256-secret-that-is-long-enough-0123456789";

  it("takes the HS256 secret from the bound SST secret, never from a plain variable", () => {
    expect(runtimeAuthSettings({}, SECRET)).toMatchObject({ hs256Secret: SECRET, audience: "leadloop", rolesClaim: "leadloop:roles" });
    expect(runtimeAuthSettings({ LEADLOOP_AUTH_SECRET: SECRET }, undefined)).toBeUndefined();
  });

  it("accepts only the OIDC issuer's tokens when the secret is none", () => {
    const env = { LEADLOOP_AUTH_JWKS_URL: "https://issuer.example/.well-known/jwks.json", LEADLOOP_AUTH_OIDC_ISSUER: "https://issuer.example", LEADLOOP_AUTH_ROLES_CLAIM: "cognito:groups" };
    const settings = runtimeAuthSettings(env, NO_AUTH_SECRET);
    expect(settings?.hs256Secret).toBeUndefined();
    expect(settings).toMatchObject({ jwksUrl: env.LEADLOOP_AUTH_JWKS_URL, rolesClaim: "cognito:groups" });
  });

  it("refuses a short secret, naming it", () => {
    expect(() => runtimeAuthSettings({}, "short")).toThrow(/LEADLOOP_AUTH_SECRET: must be at least 32 characters/);
  });

  it("derives Cognito's key set from the issuer and passes the OIDC settings to the API", () => {
    const issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/";
    const settings = parseStageSettings({ LEADLOOP_SENDER: "a@b.example", LEADLOOP_AUTH_OIDC_ISSUER: issuer, LEADLOOP_AUTH_ROLES_CLAIM: "cognito:groups" });
    expect(authEnvironment(settings)).toEqual({
      LEADLOOP_AUTH_JWKS_URL: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/.well-known/jwks.json",
      LEADLOOP_AUTH_OIDC_ISSUER: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
      LEADLOOP_AUTH_ROLES_CLAIM: "cognito:groups",
    });
    expect(authEnvironment(parseStageSettings({ LEADLOOP_SENDER: "a@b.example" }))).toEqual({});
  });
});

describe("Slack webhook secrets", () => {
  const teams = [
    { id: "a", slackWebhookEnv: "SLACK_B" },
    { id: "b", slackWebhookEnv: "SLACK_A" },
    { id: "c", slackWebhookEnv: "SLACK_B" },
    { id: "d" },
  ];

  it("are one per distinct variable the teams name", () => {
    expect(slackWebhookNames(teams)).toEqual(["SLACK_A", "SLACK_B"]);
  });

  it("may not take the name of one of leadloop's own secrets", () => {
    expect(() => slackWebhookNames([{ id: "sales", slackWebhookEnv: "LEAD_ID_KEY" }], LEADLOOP_SECRET_NAMES)).toThrow(SlackWebhookNameError);
  });

  it("resolve to URLs; none leaves a team without a channel; anything else stops the start", () => {
    const values: Record<string, string> = { SLACK_A: "https://hooks.slack.com/services/T/B/x", SLACK_B: "none" };
    expect(resolveSlackWebhooks(["SLACK_A", "SLACK_B"], (name) => values[name])).toEqual({ SLACK_A: values.SLACK_A });
    expect(() => resolveSlackWebhooks(["SLACK_A"], () => "http://hooks.slack.com/x")).toThrow(/SLACK_A is not an https URL/);
    expect(() => resolveSlackWebhooks(["SLACK_C"], () => undefined)).toThrow(/SLACK_C is not bound/);
  });
});

describe("bound secrets, read on first use", () => {
  const stage = { SST_APP: "leadloop", SST_STAGE: "prod", SST_SSM_PREFIX: "/sst/leadloop/prod/" };
  /** SSM as a map of parameter paths, recording each GetParameters batch it is asked for. */
  const ssm = (parameters: Record<string, string>) => {
    const asked: string[][] = [];
    const fetch: SsmFetch = async (paths) => {
      asked.push(paths);
      const values = Object.fromEntries(paths.filter((p) => p in parameters).map((p) => [p, parameters[p] as string]));
      return { values, missing: paths.filter((p) => !(p in parameters)) };
    };
    return { fetch, asked };
  };

  it("takes plain values from the environment and fetches the rest from the stage, falling back to the app", async () => {
    const { fetch, asked } = ssm({
      "/sst/leadloop/prod/Secret/TOKEN_SIGNING_KEY/value": "stage-key",
      "/sst/leadloop/.fallback/Secret/LEAD_ID_KEY/value": "app-key",
    });
    const values = await readBoundValues(
      {
        ...stage,
        SST_Parameter_value_SENDER: "Acme <hello@acme.example>",
        SST_Secret_value_TOKEN_SIGNING_KEY: "__FETCH_FROM_SSM__",
        SST_Secret_value_LEAD_ID_KEY: "__FETCH_FROM_SSM__",
      },
      fetch,
    );
    expect(values).toEqual({ SENDER: "Acme <hello@acme.example>", TOKEN_SIGNING_KEY: "stage-key", LEAD_ID_KEY: "app-key" });
    // One batch for the stage, one for the fallbacks of what the stage lacked.
    expect(asked).toEqual([
      ["/sst/leadloop/prod/Secret/TOKEN_SIGNING_KEY/value", "/sst/leadloop/prod/Secret/LEAD_ID_KEY/value"],
      ["/sst/leadloop/.fallback/Secret/LEAD_ID_KEY/value"],
    ]);
  });

  it("names a secret set nowhere and says how to set it", async () => {
    const { fetch } = ssm({});
    await expect(readBoundValues({ ...stage, SST_Secret_value_LEAD_ID_KEY: "__FETCH_FROM_SSM__" }, fetch)).rejects.toThrow(
      /LEAD_ID_KEY.*npx sst secrets set <NAME> <value> --stage prod/,
    );
  });

  it("reads nothing when a handler module is imported: a broken environment fails the first invocation, naming the variable", async () => {
    const saved = { ...process.env };
    try {
      for (const name of Object.keys(process.env)) if (/^(TABLE_NAME|SST_|LEADLOOP_)/.test(name)) delete process.env[name];
      const { handler } = await import("../../functions/sweeper");
      await expect(handler({}, undefined)).rejects.toThrow(EnvironmentError);
      await expect(handler({}, undefined)).rejects.toThrow(/TABLE_NAME is not set/);
    } finally {
      process.env = saved;
    }
  });
});
