/**
 * The sequence id a broadcast's messages carry (the broadcast id is their step id): the report,
 * the SES tags and the frequency cap then count a broadcast like any marketing email, and
 * config:check keeps sequences off this id.
 */
export const BROADCAST_SEQUENCE_ID = "broadcast";
