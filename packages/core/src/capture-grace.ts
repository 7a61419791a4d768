/**
 * How long a capture's own `lead.captured` has to be seen by its first consumer before the
 * republisher announces the lead itself. Every capture stores its lead (and every merge its
 * submission) on the republisher's list, due this long after the submission; the scorer, which
 * takes every `lead.captured`, clears the entry when the event reaches it. So a process killed
 * between the put and the bus's answer loses nothing, and a normal capture is never republished.
 *
 * Longer than the api function's timeout (10 s, infra's default), so the republisher never takes
 * a lead whose capture is still publishing, and than the scorer's usual wait for a lead not yet
 * stored (a few seconds of bus retries); a lead whose announcement was lost is announced within
 * this grace and one period of the republisher (5 minutes).
 */
export const CAPTURE_GRACE_MS = 2 * 60_000;

/** When the entry of a submission made at `submittedAt` falls due to the republisher. */
export function captureAnnounceBy(submittedAt: string): string {
  return new Date(Date.parse(submittedAt) + CAPTURE_GRACE_MS).toISOString();
}
