/** How enrollments and messages sit in the table: shared by the nurture store and the sweep's batched reads and writes. */
import type { Enrollment, MessageRecord } from "@leadloop/core";
import { newActivityId } from "./activity-id";
import { indexKeys, keys } from "./keys";
import { MESSAGE_LINE } from "./message-lines";

type Item = Record<string, unknown>;

export const ENROLLMENT_FIELDS = [
  "leadId",
  "sequenceId",
  "status",
  "enrolledAt",
  "lastStepId",
  "lastSentAt",
  "lastMessageId",
  "completedStepIds",
  "nextStepId",
  "dueAt",
  "attempts",
  "sending",
  "endedAt",
  "endReason",
  "runs",
  "recentSends",
] as const;

export function toEnrollment(item: Item): Enrollment {
  const out: Record<string, unknown> = {};
  for (const field of ENROLLMENT_FIELDS) if (item[field] !== undefined) out[field] = item[field];
  out.completedStepIds ??= [];
  out.attempts ??= 0;
  out.runs ??= 1;
  return out as unknown as Enrollment;
}

export function toMessage(item: Item): MessageRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, type: _t, [MESSAGE_LINE]: _line, ...rest } = item;
  return rest as unknown as MessageRecord;
}

/** A message's item; with `line`, it also holds the email's history line (see message-lines.ts). */
export function messageItem(message: MessageRecord, line?: Item): Item {
  return { ...keys.message(message.leadId, message.messageId), ...indexKeys.sesMessage(message.providerMessageId), type: "message", ...message, ...(line ? { [MESSAGE_LINE]: line } : {}) };
}

/** A sent email's history line: the time, then 12 hex digits of the message id (stable per message). */
export function messageActivityId(at: string, messageId: string): string {
  const suffix = messageId.replace(/[^0-9a-f]/gi, "").slice(-12).toLowerCase().padStart(12, "0");
  return `${newActivityId(at).slice(0, -12)}${suffix}`;
}

