/**
 * Posts webhook deliveries with fetch. Redirects are not followed (a receiver that moved says so
 * in the delivery's status, and a signed body is never replayed to another host), and an answer
 * slower than the timeout counts as no answer.
 */
import type { WebhookSender } from "@leadloop/core";

export class FetchWebhookSender implements WebhookSender {
  async post(url: string, request: { headers: Record<string, string>; body: string; timeoutMs: number }): Promise<{ status: number }> {
    const res = await fetch(url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    // The receiver's body is not ours to keep; reading it frees the connection.
    await res.body?.cancel().catch(() => {});
    return { status: res.status };
  }
}
