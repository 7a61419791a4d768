/**
 * The mailer of a registry function whose entry has no "send-email" capability: a refusal, so the
 * function loads no SES client (its role may not send either; infra grants by capability).
 */
import type { MailerFor } from "./runtime";

export class NoEmailCapabilityError extends Error {
  override readonly name = "NoEmailCapabilityError";
  constructor() {
    super('This function\'s registry entry has no "send-email" capability, so it sends no email and its role may not: add the capability to the entry (packages/core/src/registry.ts) and pass sesMailer to its lambdaFor.');
  }
}

export const noEmail: MailerFor = () => ({
  send: async () => {
    throw new NoEmailCapabilityError();
  },
});
