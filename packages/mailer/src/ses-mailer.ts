/**
 * Mailer on Amazon SES v2. Every message goes out with the configuration set (so SES publishes
 * its engagement events) and with tags that attribute those events to lead, sequence and step.
 *
 * A failure is told apart by whether SES may have sent the message: refused before sending
 * (throttling, a paused account, no connection) is MailerUnavailableError, safe to send again;
 * an answer lost after the request left (a timeout, a 5xx, a dropped connection) is
 * MailerUncertainError, which a sender that promises "at most once" must not retry. For the same
 * reason the SDK itself never resends (its retries cannot tell the two apart).
 */
import { SendEmailCommand, SESv2Client, type SESv2ClientConfig } from "@aws-sdk/client-sesv2";
import { type Mailer, MailerUncertainError, MailerUnavailableError, MailRejectedError, type OutgoingEmail } from "@leadloop/core";

/** SES refused the request before acting on it, for a reason that passes with time. */
const REFUSED_FOR_NOW = new Set(["TooManyRequestsException", "LimitExceededException", "SendingPausedException", "ThrottlingException"]);

/** The request may have reached SES and been acted on; only the answer is missing. */
const AMBIGUOUS = new Set(["ServiceUnavailable", "InternalFailure", "TimeoutError", "RequestTimeout", "RequestTimeoutException", "AbortError"]);

/** Network failures where no request reached SES (nothing to resolve, nobody listening). */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** SES tag values allow letters, digits, _ and - only. */
const tagValue = (v: string) => v.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 256);

export interface SesMailerOptions {
  client: SESv2Client;
  configurationSet?: string;
}

export class SesMailer implements Mailer {
  constructor(private readonly options: SesMailerOptions) {}

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    const command = new SendEmailCommand({
      FromEmailAddress: email.from,
      Destination: { ToAddresses: [email.to] },
      ...(email.replyTo ? { ReplyToAddresses: [email.replyTo] } : {}),
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: "UTF-8" },
          Body: { Html: { Data: email.html, Charset: "UTF-8" }, Text: { Data: email.text, Charset: "UTF-8" } },
          Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
        },
      },
      EmailTags: Object.entries(email.tags).map(([Name, Value]) => ({ Name, Value: tagValue(Value) })),
      ...(this.options.configurationSet ? { ConfigurationSetName: this.options.configurationSet } : {}),
    });
    try {
      const out = await this.options.client.send(command);
      if (!out.MessageId) throw new MailerUnavailableError("SES answered without a message id");
      return { messageId: out.MessageId };
    } catch (error) {
      if (error instanceof MailerUnavailableError) throw error;
      throw classify(error);
    }
  }
}

/** What an SDK error means for the message: refused for now, maybe sent, or refused for good. */
export function classify(error: unknown): Error {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean }; message?: string };
  const name = e.name ?? "error";
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (REFUSED_FOR_NOW.has(name) || status === 429 || e.$retryable?.throttling || NOT_CONNECTED.has(e.code ?? "")) {
    return new MailerUnavailableError(`SES is unavailable (${name}); the send will be retried`, { cause: error });
  }
  if (AMBIGUOUS.has(name) || status >= 500 || status === 0 || e.$retryable) {
    return new MailerUncertainError(`SES did not answer whether it sent the message (${name})`, { cause: error });
  }
  return new MailRejectedError(`SES refused the message (${name}): ${e.message ?? ""}`, { cause: error });
}

export function createSesClient(options: { endpoint?: string; region?: string } = {}): SESv2Client {
  // One attempt: a retried SendEmail after a lost answer is a second email (see classify).
  const config: SESv2ClientConfig = { region: options.region ?? process.env.AWS_REGION ?? "us-east-1", maxAttempts: 1 };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.credentials = { accessKeyId: "local", secretAccessKey: "local" };
  }
  return new SESv2Client(config);
}
