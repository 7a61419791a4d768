/**
 * The LeadQualityStore port on the one table: a rep's latest verdict on a lead, in the lead's
 * partition (so an erase takes it), read back in batches for the deal reviews and calibration.
 */
import { BatchGetCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { LeadQualityStore, QualityFlag } from "@leadloop/core";
import { translateError } from "./errors";
import { keys } from "./keys";

/** BatchGetItem takes at most 100 keys. */
const BATCH = 100;

export class DynamoLeadQuality implements LeadQualityStore {
  constructor(private readonly options: { client: DynamoDBDocumentClient; tableName: string }) {}

  async setQuality(flag: QualityFlag): Promise<void> {
    try {
      await this.options.client.send(new PutCommand({ TableName: this.options.tableName, Item: { ...keys.leadQuality(flag.leadId), type: "lead-quality", ...flag } }));
    } catch (error) {
      throw translateError(error, "recording a lead's quality verdict");
    }
  }

  async getQualities(leadIds: string[]): Promise<Map<string, QualityFlag>> {
    const out = new Map<string, QualityFlag>();
    const unique = [...new Set(leadIds)];
    for (let i = 0; i < unique.length; i += BATCH) {
      let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = {
        [this.options.tableName]: { Keys: unique.slice(i, i + BATCH).map((id) => ({ ...keys.leadQuality(id) })) },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 8; attempt++) {
        const batch: typeof request = request;
        const res = await this.#send(() => this.options.client.send(new BatchGetCommand({ RequestItems: batch })));
        for (const item of res.Responses?.[this.options.tableName] ?? []) {
          out.set(String(item.leadId), {
            leadId: String(item.leadId),
            verdict: item.verdict,
            rep: String(item.rep),
            at: String(item.at),
            ...(typeof item.reason === "string" ? { reason: item.reason } : {}),
          });
        }
        request = res.UnprocessedKeys as typeof request;
      }
    }
    return out;
  }

  async #send<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw translateError(error, "reading lead quality verdicts");
    }
  }
}
