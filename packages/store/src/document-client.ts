import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface DocumentClientOptions {
  /** Set for local engines; in AWS the SDK finds the regional endpoint itself. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Defaults to 3 (the SDK's own default); throttling is retried with backoff by the SDK. */
  maxAttempts?: number;
}

export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });
  return DynamoDBDocumentClient.from(client, {
    // Optional fields are left out of items rather than rejected.
    marshallOptions: { removeUndefinedValues: true },
  });
}
