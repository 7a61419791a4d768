/**
 * Mailer on Amazon SES v2. Every message goes out with the configuration set (so SES publishes
 * its engagement events) and with tags that attribute those events to lead, sequence and step.
 */
import { SendEmailCommand, SESv2Client, type SESv2ClientConfig } from "@aws-sdk/client-sesv2";
import { type Mailer, MailerUnavailableError, MailRejectedError, type OutgoingEmail } from "@leadloop/core";

/** SES error names that pass with time; anything else is a refusal of this message. */
const TRANSIENT = new Set([
  "TooManyRequestsException",
  "LimitExceededException",
  "SendingPausedException",
  "ThrottlingException",
  "ServiceUnavailable",
  "InternalFailure",
  "TimeoutError",
  "RequestTimeout",
]);

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
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; message?: string };
      const status = e.$metadata?.httpStatusCode ?? 0;
      if (TRANSIENT.has(e.name ?? "") || status >= 500 || status === 429 || e.$retryable || status === 0) {
        throw new MailerUnavailableError(`SES is unavailable (${e.name ?? "error"}); the send will be retried`, { cause: error });
      }
      throw new MailRejectedError(`SES refused the message (${e.name ?? "error"}): ${e.message ?? ""}`, { cause: error });
    }
  }
}

export function createSesClient(options: { endpoint?: string; region?: string } = {}): SESv2Client {
  const config: SESv2ClientConfig = { region: options.region ?? process.env.AWS_REGION ?? "us-east-1" };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.credentials = { accessKeyId: "local", secretAccessKey: "local" };
  }
  return new SESv2Client(config);
}
