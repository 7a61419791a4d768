/**
 * SSM's GetParameters, the one SSM call a leadloop function makes (functions/lib/bound-values.ts
 * reads the stage's secrets with it on the first invocation): a POST in AWS's JSON 1.1 protocol,
 * signed with Signature Version 4 by the SDK's own signer, with the role's credentials Lambda puts
 * in the environment.
 *
 * Why not `@aws-sdk/client-ssm` (through Powertools Parameters): that client registers every one
 * of SSM's error classes and operation schemas when it loads, 95 KB of every bundle for one call,
 * parsed and run on the first request of every container. The signer, the credentials and the
 * HTTP transport here are the ones the DynamoDB client already bundles.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { fromEnv } from "@aws-sdk/credential-provider-env";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider } from "@smithy/types";

/** SSM takes at most ten names per GetParameters call. */
const NAMES_PER_CALL = 10;
const ATTEMPTS = 3;

/** SSM refused a call, or could not be reached after every attempt. */
export class SsmRequestError extends Error {
  override readonly name = "SsmRequestError";
  constructor(
    message: string,
    readonly code: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/** SHA-256 (or its HMAC) in the shape the signer takes, on node:crypto. */
class Sha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash("sha256") : createHmac("sha256", typeof secret === "string" ? secret : Buffer.from(secret as ArrayBuffer));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(typeof data === "string" ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

export interface SsmEndpoint {
  region: string;
  /** SSM's regional endpoint, or the one AWS_ENDPOINT_URL_SSM (then AWS_ENDPOINT_URL) names, as the SDK does. */
  url: URL;
  /** The role's credentials; in Lambda, the environment's. */
  credentials: AwsCredentialIdentityProvider;
}

/** Where this function's SSM is: AWS_REGION's endpoint unless the environment names another. */
export function ssmEndpoint(env: Record<string, string | undefined> = process.env): SsmEndpoint {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new SsmRequestError("AWS_REGION is not set: Lambda sets it; elsewhere set it to the stage's region.", "MissingRegion", undefined);
  const configured = env.AWS_ENDPOINT_URL_SSM ?? env.AWS_ENDPOINT_URL;
  const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return { region, url: new URL(configured ?? `https://ssm.${region}.${domain}`), credentials: fromEnv() };
}

interface Answer {
  status: number;
  body: string;
}

function post(url: URL, headers: Record<string, string>, body: string): Promise<Answer> {
  const send = url.protocol === "http:" ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: "POST", headers, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("SSM did not answer within 5 s")));
    req.on("error", reject);
    req.end(body);
  });
}

/** One signed AWS JSON 1.1 call to SSM; throttling, server errors and lost connections are retried with backoff. */
async function call(endpoint: SsmEndpoint, target: string, input: object): Promise<unknown> {
  const signer = new SignatureV4({ credentials: endpoint.credentials, region: endpoint.region, service: "ssm", sha256: Sha256 });
  const body = JSON.stringify(input);
  const { url } = endpoint;
  let last: SsmRequestError | undefined;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (attempt > 1) await new Promise((wait) => setTimeout(wait, 50 * 2 ** attempt * (0.5 + Math.random())));
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `AmazonSSM.${target}`,
        "content-length": String(Buffer.byteLength(body)),
      },
      body,
    });
    let answer: Answer;
    try {
      answer = await post(url, signed.headers, body);
    } catch (error) {
      last = new SsmRequestError(`SSM ${target} could not be reached: ${String(error)}`, "NetworkError", undefined);
      continue;
    }
    if (answer.status === 200) return JSON.parse(answer.body) as unknown;
    const failure = (answer.body ? JSON.parse(answer.body) : {}) as { __type?: string; message?: string; Message?: string };
    const code = failure.__type?.split("#").pop() ?? `HTTP${answer.status}`;
    last = new SsmRequestError(`SSM ${target} answered ${answer.status} ${code}: ${failure.message ?? failure.Message ?? ""}`, code, answer.status);
    const retryable = answer.status >= 500 || /Throttl|TooManyRequests|RequestLimitExceeded/.test(code);
    if (!retryable) break;
  }
  throw last;
}

/** GetParameters (decrypted) for every path, ten per call: each value by path, and the paths SSM does not hold. */
export async function getParameters(
  paths: string[],
  endpoint: SsmEndpoint = ssmEndpoint(),
): Promise<{ values: Record<string, string>; missing: string[] }> {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (let i = 0; i < paths.length; i += NAMES_PER_CALL) {
    const names = paths.slice(i, i + NAMES_PER_CALL);
    const out = (await call(endpoint, "GetParameters", { Names: names, WithDecryption: true })) as {
      Parameters?: { Name?: string; Value?: string }[];
      InvalidParameters?: string[];
    };
    for (const { Name, Value } of out.Parameters ?? []) if (Name !== undefined && Value !== undefined) values[Name] = Value;
    missing.push(...(out.InvalidParameters ?? []));
  }
  return { values, missing };
}
