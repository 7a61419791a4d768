/**
 * Ports wrapped so each lead's trail shows in the logs with its id: the use cases stay free of
 * logging concerns, and every published event and sent email still leaves a line a person can
 * search for by `leadId`.
 */
import type { EventPublisher, Mailer } from "@leadloop/core/ports";
import type { AppLogger } from "./runtime";

export function loggedPublisher(inner: EventPublisher, log: AppLogger): EventPublisher {
  return {
    async publish(events) {
      await inner.publish(events);
      for (const event of events) {
        log.info("event published", { leadId: event.detail.leadId, eventType: event.type });
      }
    },
  };
}

export function loggedMailer(inner: Mailer, log: AppLogger): Mailer {
  return {
    async send(email) {
      const result = await inner.send(email);
      log.info("email sent", {
        leadId: email.tags.lead,
        sequenceId: email.tags.sequence,
        stepId: email.tags.step,
        sesMessageId: result.messageId,
      });
      return result;
    },
  };
}
