/**
 * The table's change stream in the core's terms: a DynamoDB Streams record (as Lambda delivers it,
 * or as GetRecords returns it from DynamoDB Local) becomes a TableChange with plain images. The
 * stream's wire format stays here; the record's sequence number is its id, which is what Lambda's
 * ReportBatchItemFailures hands back.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { TableChange } from "@leadloop/core";
import { scoreFromItem } from "./stored-score";

/** The parts of a stream record this reads (Lambda's DynamoDBRecord and the SDK's _Record agree on them). */
export interface StreamRecordIn {
  eventID?: string | undefined;
  eventName?: string | undefined;
  dynamodb?:
    | {
        SequenceNumber?: string | undefined;
        NewImage?: Record<string, unknown> | undefined;
        OldImage?: Record<string, unknown> | undefined;
      }
    | undefined;
}

export class MalformedStreamRecordError extends Error {
  override readonly name = "MalformedStreamRecordError";
}

/**
 * The streams client reads an empty map or list in a record as `{}` (no type at all); unmarshall
 * refuses that, so it is taken as null here (the report reads no empty collection).
 */
function typed(value: unknown): unknown {
  if (!value || typeof value !== "object") return value;
  const attribute = value as Record<string, unknown>;
  if (Object.keys(attribute).length === 0) return { NULL: true };
  if (attribute.M && typeof attribute.M === "object") return { M: Object.fromEntries(Object.entries(attribute.M).map(([k, v]) => [k, typed(v)])) };
  if (Array.isArray(attribute.L)) return { L: attribute.L.map(typed) };
  return attribute;
}

/**
 * An item as the core knows it: a lead's score is stored compactly (stored-score.ts) and read
 * back in the core's shape, as every other reader of the lead item gets it.
 */
function image(value: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!value) return undefined;
  const item = unmarshall(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typed(v)])) as Record<string, AttributeValue>, { wrapNumbers: false }) as Record<string, unknown>;
  if (item.sk !== "LEAD" || item.score === undefined) return item;
  return { ...item, score: scoreFromItem(item.score) };
}

export function tableChangeOf(record: StreamRecordIn): TableChange {
  const id = record.dynamodb?.SequenceNumber ?? record.eventID;
  const change = record.eventName;
  if (!id || (change !== "INSERT" && change !== "MODIFY" && change !== "REMOVE")) {
    throw new MalformedStreamRecordError(`a stream record without a sequence number or with event name ${String(change)}: is the trigger a DynamoDB stream?`);
  }
  const newImage = image(record.dynamodb?.NewImage);
  const oldImage = image(record.dynamodb?.OldImage);
  return { id, change, ...(newImage ? { newImage } : {}), ...(oldImage ? { oldImage } : {}) };
}
