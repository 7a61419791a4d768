/**
 * What the functions read at start-up: the environment fails fast naming what is missing, and the
 * config snapshot the stacks ship is the validated config, unchanged by the trip through JSON.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigOrThrow } from "@leadloop/core";
import { describe, expect, it } from "vitest";
import { EnvironmentError, parseEnvironment } from "../../functions/lib/environment";
import { readConfigSnapshot } from "../../functions/lib/runtime";
import { writeConfigSnapshot } from "../../infra/config-snapshot";
import { parseStageSettings, StageSettingsError } from "../../infra/stage-settings";

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
