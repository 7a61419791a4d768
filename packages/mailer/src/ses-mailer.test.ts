import { MailerUncertainError, MailerUnavailableError, MailRejectedError } from "@leadloop/core";
import { describe, expect, inject, it } from "vitest";
import { classify, createSesClient, SesMailer } from "./ses-mailer";

interface StoredEmail {
  messageId: string;
  subject: string;
  destination: { to: string[] };
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
}

describe("SesMailer against the SES v2 emulator", () => {
  const endpoint = inject("sesEndpoint");
  const mailer = new SesMailer({ client: createSesClient({ endpoint }), configurationSet: "leadloop-test" });

  it("sends HTML and text parts with the RFC 8058 headers kept", async () => {
    const to = `mailer-${Date.now()}@example.com`;
    const { messageId } = await mailer.send({
      to,
      from: "Acme <hello@acme.example>",
      subject: "Welcome, Ada",
      html: "<p>Hello</p>",
      text: "Hello",
      headers: {
        "List-Unsubscribe": "<https://acme.example/v1/unsubscribe?token=t>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
      tags: { lead: "L1", sequence: "smb-nurture", step: "welcome", message: "m1" },
    });
    expect(messageId).toBeTruthy();
    const store = (await (await fetch(`${endpoint}/store`)).json()) as { emails: StoredEmail[] };
    const sent = store.emails.find((e) => e.messageId === messageId);
    expect(sent?.destination.to).toEqual([to]);
    expect(sent?.subject).toBe("Welcome, Ada");
    expect(sent?.body).toEqual({ html: "<p>Hello</p>", text: "Hello" });
    const headers = Object.fromEntries((sent?.headers ?? []).map((h) => [h.name, h.value]));
    expect(headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(headers["List-Unsubscribe"]).toContain("unsubscribe?token=t");
  });

  it("reports a refused message as MailRejectedError, not a crash", async () => {
    await expect(
      mailer.send({ to: "x@example.com", from: "", subject: "s", html: "h", text: "t", headers: {}, tags: {} }),
    ).rejects.toBeInstanceOf(MailRejectedError);
  });
});

describe("classify: whether SES may have sent a message whose send failed", () => {
  const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}), ...extra });

  it("refused before sending (throttling, a paused account, no connection) may be sent again", () => {
    for (const error of [
      sdkError("TooManyRequestsException", 429),
      sdkError("SendingPausedException", 400),
      sdkError("LimitExceededException", 400),
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    ]) {
      const classified = classify(error);
      expect(classified).toBeInstanceOf(MailerUnavailableError);
      expect(classified).not.toBeInstanceOf(MailerUncertainError);
    }
  });

  it("an answer lost after the request left (timeout, 5xx, dropped connection) is uncertain", () => {
    for (const error of [sdkError("TimeoutError"), sdkError("InternalFailure", 500), sdkError("ServiceUnavailable", 503), Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })]) {
      expect(classify(error)).toBeInstanceOf(MailerUncertainError);
    }
  });

  it("a refusal of this message is final", () => {
    expect(classify(sdkError("MessageRejected", 400))).toBeInstanceOf(MailRejectedError);
    expect(classify(sdkError("BadRequestException", 400))).toBeInstanceOf(MailRejectedError);
  });
});
