/**
 * The table's shape comes from the store (`tableDefinition`), the same definition the local stack
 * creates in DynamoDB Local, so the deployed keys and indexes cannot drift from what the adapter
 * queries. This turns that CreateTable input into SST `Table` props.
 */
import type { TableProps } from "sst/constructs";

type FieldType = "string" | "number" | "binary";

/** The parts of a DynamoDB CreateTable input the stacks read. */
export interface TableDefinitionInput {
  AttributeDefinitions?: { AttributeName?: string; AttributeType?: string }[];
  KeySchema?: { AttributeName?: string; KeyType?: string }[];
  GlobalSecondaryIndexes?: {
    IndexName?: string;
    KeySchema?: { AttributeName?: string; KeyType?: string }[];
    Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
  }[];
}

const FIELD_TYPES: Record<string, FieldType> = { S: "string", N: "number", B: "binary" };

export class TableDefinitionError extends Error {
  override readonly name = "TableDefinitionError";
}

function keysOf(schema: TableDefinitionInput["KeySchema"], where: string): { partitionKey: string; sortKey?: string } {
  const hash = schema?.find((k) => k.KeyType === "HASH")?.AttributeName;
  const range = schema?.find((k) => k.KeyType === "RANGE")?.AttributeName;
  if (!hash) throw new TableDefinitionError(`${where} has no HASH key`);
  return range ? { partitionKey: hash, sortKey: range } : { partitionKey: hash };
}

export function tableProps(definition: TableDefinitionInput): Pick<TableProps, "fields" | "primaryIndex" | "globalIndexes"> {
  const fields: Record<string, FieldType> = {};
  for (const attribute of definition.AttributeDefinitions ?? []) {
    const type = FIELD_TYPES[attribute.AttributeType ?? ""];
    if (!attribute.AttributeName || !type) throw new TableDefinitionError(`attribute ${JSON.stringify(attribute)} has no name or a type DynamoDB keys cannot have`);
    fields[attribute.AttributeName] = type;
  }
  const globalIndexes: NonNullable<TableProps["globalIndexes"]> = {};
  for (const index of definition.GlobalSecondaryIndexes ?? []) {
    if (!index.IndexName) throw new TableDefinitionError("a global secondary index has no name");
    const projection = index.Projection?.ProjectionType;
    globalIndexes[index.IndexName] = {
      ...keysOf(index.KeySchema, `index ${index.IndexName}`),
      projection:
        projection === "KEYS_ONLY" ? "keys_only" : projection === "INCLUDE" ? (index.Projection?.NonKeyAttributes ?? []) : "all",
    };
  }
  return { fields, primaryIndex: keysOf(definition.KeySchema, "the table"), globalIndexes };
}
