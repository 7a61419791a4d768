/**
 * A sent nurture email's history line lives on its message item (`line`), not in an activity
 * item of its own: the sweeper writes two items per send (the settle and the message) instead of
 * three. Readers of the history put these lines among the `ACT#` activities by their ids, which
 * sort by time as an activity id does. Messages recorded before the line moved carry no `line`:
 * their history line is the `ACT#` item written beside them, read as before and never twice.
 *
 * In the lead's partition `LEAD` sorts right before `MSG#`, with nothing between them, so one
 * Query of `sk BETWEEN "LEAD" AND "MSG#\uffff"` returns the lead item and its messages' lines.
 */
import type { Activity, NewActivity } from "@leadloop/core";
import { keys } from "./keys";
import { toActivity } from "./first-submission";

type Item = Record<string, unknown>;

/** The attribute of a message item holding its history line. */
export const MESSAGE_LINE = "line";

export const LEAD_AND_MESSAGES = { from: keys.lead("").sk, to: "MSG#\uffff" } as const;

/** The line stored on a message item: the activity as it would be stored, its id included. */
export function messageLine(id: string, activity: NewActivity): Item {
  return { id, type: activity.type, at: activity.at, data: activity.data };
}

/** The history line a stored message item carries, if it carries one. */
export function lineOfMessage(item: Item, leadId: string): Activity | undefined {
  const line = item[MESSAGE_LINE] as Item | undefined;
  if (!String(item.sk ?? "").startsWith("MSG#") || !line) return undefined;
  return toActivity({ ...line, leadId });
}

/** Activities (newest first) and message lines as one history, newest first, each id once. */
export function withMessageLines(activities: Activity[], lines: readonly Activity[]): Activity[] {
  if (lines.length === 0) return activities;
  const seen = new Set(activities.map((a) => a.id));
  const merged = [...activities, ...lines.filter((l) => !seen.has(l.id))];
  return merged.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}
