/**
 * How Lambda calls a stream consumer: a DynamoDB Streams batch (`{ Records }`). The answer names
 * the records to deliver again (ReportBatchItemFailures: Lambda retries from the first one named,
 * bisecting a batch that keeps failing, then hands it to the on-failure destination).
 */
import type { PortName, RegistryPorts, StreamEntry } from "@leadloop/core/registry";
import { type StreamRecordIn, tableChangeOf } from "@leadloop/store/table-changes";
import * as z from "zod";

export const StreamBatch = z.object({ Records: z.array(z.looseObject({ eventName: z.string().optional() })) });

export interface StreamBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** Runs the entry on the batch; a record that cannot be read is a wiring defect and fails the batch. */
export async function handleStreamBatch<P extends PortName>(
  entry: StreamEntry<P>,
  ports: Pick<RegistryPorts, P>,
  input: unknown,
): Promise<{ response: StreamBatchResponse; report: Record<string, unknown> }> {
  const { Records } = StreamBatch.parse(input);
  const changes = Records.map((record) => tableChangeOf(record as StreamRecordIn));
  const { failed, report } = await entry.handle(ports, changes);
  return { response: { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) }, report };
}
