/**
 * Which bus events config may name, as plain data: the events that end a lead's enrollments
 * (`exitOn` in a sequence) and the events an outgoing webhook may subscribe to. config/schema.ts
 * makes its zod enums of them; the routing rules and the webhook handler read them here, so a
 * function that routes or delivers does not load the whole config schema to know them.
 */
export const EXIT_EVENTS = ["lead.qualified", "lead.unsubscribed", "lead.closed"] as const;

export const WEBHOOK_EVENTS = ["lead.qualified", "lead.assigned", "lead.closed", "customer.purchase", "customer.tier_changed"] as const;
