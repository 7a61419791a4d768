/**
 * JSON Schemas (draft-07, the dialect every YAML editor plugin reads) for editor autocompletion, generated from the zod schemas so the two cannot
 * disagree. `io: "input"` describes what a marketer writes (defaults make keys optional), not
 * what the loader produces.
 */
import * as z from "zod";
import { BroadcastFile, FormsFile, RewardsFile, ScoringFile, SegmentsFile, SequenceFile, TeamsFile, WebhooksFile } from "./schema";

const FILES = {
  "forms.schema.json": [FormsFile, "leadloop forms (config/forms.yaml)"],
  "segments.schema.json": [SegmentsFile, "leadloop segments (config/segments.yaml)"],
  "scoring.schema.json": [ScoringFile, "leadloop scoring (config/scoring.yaml)"],
  "sequence.schema.json": [SequenceFile, "leadloop nurture sequence (config/sequences/*.yaml)"],
  "teams.schema.json": [TeamsFile, "leadloop sales teams (config/teams.yaml)"],
  "rewards.schema.json": [RewardsFile, "leadloop customer reward points (config/rewards.yaml)"],
  "webhooks.schema.json": [WebhooksFile, "leadloop outgoing webhooks (config/webhooks.yaml)"],
  "broadcast.schema.json": [BroadcastFile, "leadloop broadcast, a one-off email to an audience (config/broadcasts/*.yaml)"],
} as const;

/** File name under config/schema → JSON Schema document. */
export function configJsonSchemas(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(FILES).map(([file, [schema, title]]) => {
      const { $schema, ...rest } = z.toJSONSchema(schema, { io: "input", target: "draft-7", unrepresentable: "any" });
      return [file, { $schema, title, ...rest }];
    }),
  );
}

export function serializeJsonSchema(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
