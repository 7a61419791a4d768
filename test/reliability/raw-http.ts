/**
 * HTTP without the politeness of fetch: any method, any bytes, any header a Node client may send,
 * and a chosen local address (127.0.0.x) so one machine can look like many clients.
 */
import { request } from "node:http";

export interface RawRequest {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  localAddress?: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text(): string;
  json(): unknown;
}

export function rawRequest(req: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = typeof req.body === "string" ? Buffer.from(req.body, "utf8") : req.body;
    const headers: Record<string, string> = { ...req.headers };
    if (body && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) headers["content-length"] = String(body.byteLength);
    const r = request(req.url, { method: req.method, headers, ...(req.localAddress ? { localAddress: req.localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const buf = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: buf,
          text: () => buf.toString("utf8"),
          json: () => JSON.parse(buf.toString("utf8")),
        });
      });
    });
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`${req.method} ${req.url} timed out after ${timeoutMs} ms`)));
    r.on("error", reject);
    r.end(body);
  });
}

/** Runs `work` over `items` with at most `concurrency` at a time; results keep the input order. */
export async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
