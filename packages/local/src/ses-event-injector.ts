/**
 * Builds the event SES would publish for a caught email (configuration-set event publishing to
 * EventBridge), so the local stack's engagement handler gets exactly what it gets in AWS: the same
 * `detail-type`, the same record under `detail` (eventType, mail with its tags as arrays of
 * strings, and the open/click/bounce/complaint/delivery object), through the same `aws.ses` rule.
 */
import { randomUUID } from "node:crypto";
import { type EventEnvelope, type Mailer, type OutgoingEmail, SES_EVENTS, SES_SOURCE } from "@leadloop/core";

export const SES_ACTIONS = ["open", "click", "bounce", "complaint", "delivery"] as const;
export type SesAction = (typeof SES_ACTIONS)[number];

export function isSesAction(value: string): value is SesAction {
  return (SES_ACTIONS as readonly string[]).includes(value);
}

export interface CaughtEmail {
  /** The SES message id. */
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  headers: { name: string; value: string }[];
  sentAt: string;
}

export interface SesEventInput {
  action: SesAction;
  email: CaughtEmail;
  /** The message tags the sender set (lead, sequence, step, message). */
  tags: Record<string, string>;
  configurationSet: string;
  now: Date;
  /** For a click: the link followed. */
  link?: string;
  /** For a bounce: Permanent (default) or Transient. */
  bounceType?: "Permanent" | "Transient";
}

const ACCOUNT = "000000000000";
const REGION = "local";
const USER_AGENT = "Mozilla/5.0 (leadloop local stack)";
const CLIENT_IP = "192.0.2.1";

function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from;
}

export function sesEngagementEvent(input: SesEventInput): EventEnvelope {
  const { email, now } = input;
  const at = now.toISOString();
  const sender = addressOf(email.from);
  const domain = sender.split("@")[1] ?? "localhost";
  // SES adds its own tags beside the ones the sender set; every value is an array of strings.
  const tags: Record<string, string[]> = {
    "ses:configuration-set": [input.configurationSet],
    "ses:source-ip": ["127.0.0.1"],
    "ses:from-domain": [domain],
    "ses:caller-identity": ["leadloop-local"],
    "ses:outgoing-ip": ["127.0.0.1"],
    ...Object.fromEntries(Object.entries(input.tags).map(([k, v]) => [k, [v]])),
  };
  const mail = {
    timestamp: email.sentAt,
    source: email.from,
    sourceArn: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/${domain}`,
    sendingAccountId: ACCOUNT,
    messageId: email.messageId,
    destination: email.to,
    headersTruncated: false,
    headers: email.headers,
    commonHeaders: { from: [email.from], to: email.to, messageId: email.messageId, subject: email.subject },
    tags,
  };
  const feedbackId = `${randomUUID()}-000000`;
  const kind = SES_EVENTS[input.action];
  const detail: Record<string, unknown> = { eventType: kind.eventType, mail };
  switch (input.action) {
    case "open":
      detail.open = { ipAddress: CLIENT_IP, timestamp: at, userAgent: USER_AGENT };
      break;
    case "click":
      detail.click = { ipAddress: CLIENT_IP, link: input.link ?? "", linkTags: {}, timestamp: at, userAgent: USER_AGENT };
      break;
    case "delivery":
      detail.delivery = {
        timestamp: at,
        processingTimeMillis: 500,
        recipients: email.to,
        smtpResponse: "250 2.6.0 Message received",
        reportingMTA: "a1-2.smtp-out.local.amazonses.com",
      };
      break;
    case "bounce": {
      const permanent = (input.bounceType ?? "Permanent") === "Permanent";
      detail.bounce = {
        bounceType: permanent ? "Permanent" : "Transient",
        bounceSubType: permanent ? "General" : "MailboxFull",
        bouncedRecipients: email.to.map((emailAddress) => ({
          emailAddress,
          action: "failed",
          status: permanent ? "5.1.1" : "4.2.2",
          diagnosticCode: permanent ? "smtp; 550 5.1.1 user unknown" : "smtp; 452 4.2.2 mailbox full",
        })),
        timestamp: at,
        feedbackId,
        reportingMTA: "dsn; a1-2.smtp-out.local.amazonses.com",
      };
      break;
    }
    case "complaint":
      detail.complaint = {
        complainedRecipients: email.to.map((emailAddress) => ({ emailAddress })),
        timestamp: at,
        feedbackId,
        userAgent: USER_AGENT,
        complaintFeedbackType: "abuse",
        arrivalDate: at,
      };
      break;
  }
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": kind.detailType,
    source: SES_SOURCE,
    account: ACCOUNT,
    time: at,
    region: REGION,
    resources: [`arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/${input.configurationSet}`],
    detail,
  };
}

/** The link a click follows by default: the email's first link that is not its unsubscribe link. */
export function firstLink(html: string, text: string): string | undefined {
  const links = [...`${html}\n${text}`.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0].replace(/&amp;/g, "&"));
  return links.find((link) => !link.includes("/v1/unsubscribe"));
}

/**
 * The SES emulator accepts EmailTags and drops them, but SES puts them on every event. This mailer
 * remembers the tags each message really went out with, so an injected event carries exactly
 * those (a staff email's tags included, not a lead's reconstructed from the message store).
 * In memory: after a restart the injector falls back to the message store.
 */
export class TagRememberingMailer implements Mailer {
  readonly #inner: Mailer;
  readonly #tags = new Map<string, Record<string, string>>();

  constructor(inner: Mailer) {
    this.#inner = inner;
  }

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    const sent = await this.#inner.send(email);
    this.#tags.set(sent.messageId, { ...email.tags });
    return sent;
  }

  tagsOf(providerMessageId: string): Record<string, string> | undefined {
    return this.#tags.get(providerMessageId);
  }
}
