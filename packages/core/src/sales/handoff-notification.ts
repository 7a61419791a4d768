/**
 * Telling a rep about a lead: an email from the `rep-handoff` template (who the lead is, why it
 * qualified, what it did lately, a link to it on /sales) and, where the team has one, a Slack
 * message. Each channel is sent once per assignment; a failure leaves the item in the retry index
 * with a growing pause, so a notification is retried and the hand-off itself is never lost.
 */
import type { Rep, Team } from "../config/schema";
import { staffEmailTags } from "../engagement/ses-events";
import { sweepDueIndex } from "../due-index";
import type { Activity } from "../ports";
import { escapeChatText, renderTemplate } from "../templating";
import { findTeam, leadUrl, type SalesDeps } from "./sales-deps";
import type { ScoreReason } from "../scoring";
import type { NotificationPatch, QueueItem, QueueRef } from "./sales-store";

export const HANDOFF_TEMPLATE = "rep-handoff";
const HANDOFF_SUBJECT = "New qualified lead: {{ lead_name }}";
const REASSIGNED_SUBJECT = "Reassigned to you: {{ lead_name }}";
const TOP_REASONS = 5;
const TIMELINE_ENTRIES = 8;
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 60 * 60_000;
/** After this many failed tries the notification is given up (and logged); the lead stays queued. */
export const MAX_NOTIFY_ATTEMPTS = 12;
/** A new item waits this long before the retry job may try it, so it does not race the first send. */
export const FIRST_RETRY_AFTER_MS = 2 * 60_000;

export function describeReason(reason: ScoreReason): string {
  const points = reason.points >= 0 ? `+${reason.points}` : String(reason.points);
  return `${reason.rule} (${points}, ${reason.category})`;
}

/** The reasons that gave the most points first. */
export function strongestReasons(reasons: readonly ScoreReason[], count = TOP_REASONS): ScoreReason[] {
  return [...reasons].sort((a, b) => b.points - a.points).slice(0, count);
}

/** A short line per activity, as a rep reads a timeline. */
export function describeActivity(activity: Pick<Activity, "type" | "data">): string {
  const d = activity.data;
  const s = (key: string) => (typeof d[key] === "string" || typeof d[key] === "number" ? String(d[key]) : undefined);
  switch (activity.type) {
    case "form.submitted":
      return `Submitted the ${s("formId") ?? ""} form`.replace("  ", " ");
    case "email.sent":
      return `Was sent ${s("stepId") ?? "an email"}${s("sequenceId") ? ` (${s("sequenceId")})` : ""}`;
    case "email.opened":
      return `Opened ${s("stepId") ?? "an email"}`;
    case "email.clicked":
      return `Clicked ${s("url") ?? s("link") ?? "a link"} in ${s("stepId") ?? "an email"}`;
    case "sequence.enrolled":
      return `Started the ${s("sequenceId") ?? ""} sequence`;
    case "lead.assigned":
      return `Handed to ${s("repName") ?? s("rep") ?? "a rep"}`;
    case "lead.reassigned":
      return `Moved from ${s("from") ?? "a rep"} to ${s("rep") ?? "the next rep"} (claim window missed)`;
    case "lead.escalated":
      return "Escalated: nobody claimed it in time";
    case "lead.claimed":
      return `Claimed by ${s("rep") ?? "a rep"}`;
    case "lead.closed":
      return `Closed as ${s("outcome") ?? "done"}${s("reason") ? ` (${s("reason")})` : ""} by ${s("rep") ?? "a rep"}`;
    case "web.event":
    case "behaviour":
      return `${s("kind") ?? s("type") ?? "Visited"} ${s("url") ?? ""}`.trim();
    default: {
      const detail = s("url") ?? s("stepId") ?? s("rep") ?? s("outcome") ?? "";
      return `${activity.type}${detail ? `: ${detail}` : ""}`;
    }
  }
}

export function formatTime(iso: string): string {
  return `${new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC",
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(iso))} UTC`;
}

function backoff(attempts: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/** Sends whatever this item's rep has not been told yet; records progress or schedules a retry. */
export async function notifyQueueItem(deps: SalesDeps, item: QueueItem, extra: { reassignedFrom?: string } = {}): Promise<"notified" | "retry" | "gave-up"> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const team = findTeam(deps, item.teamId);
  const patch: NotificationPatch = {};
  try {
    if (!team) throw new Error(`team ${item.teamId} is no longer in config/teams.yaml`);
    const rep: Pick<Rep, "email" | "name"> = team.reps.find((r) => r.email === item.rep) ?? { email: item.rep, name: item.repName };
    if (!item.emailedAt) {
      await sendHandoffEmail(deps, item, team, rep, extra);
      patch.emailedAt = at;
    }
    if (!item.chattedAt && team.slackWebhookEnv && deps.chat) {
      const lead = await deps.leads.getLead(item.leadId);
      const who = escapeChatText(lead ? leadName(lead.profile, lead.email) : item.leadId);
      const sent = await deps.chat.post(team, {
        text: `New qualified lead for ${escapeChatText(rep.name)}: *${who}* (score ${item.score}/${item.threshold}). Claim by ${formatTime(item.claimBy)}: <${leadUrl(deps.settings, item.leadId)}|open on /sales>`,
      });
      if (sent) patch.chattedAt = at;
    }
    patch.notifiedAt = at;
    await deps.sales.recordNotification(item, item.rep, patch);
    return "notified";
  } catch (error) {
    const attempts = item.notifyAttempts + 1;
    const gaveUp = attempts >= MAX_NOTIFY_ATTEMPTS;
    deps.log?.warn(gaveUp ? "rep notification given up" : "rep notification failed; will retry", {
      leadId: item.leadId,
      teamId: item.teamId,
      rep: item.rep,
      attempts,
      error: String(error),
    });
    await deps.sales.recordNotification(item, item.rep, {
      ...patch,
      notifyAttempts: attempts,
      ...(gaveUp ? { notifiedAt: at } : { notifyAfter: new Date(now.getTime() + backoff(attempts)).toISOString() }),
    });
    return gaveUp ? "gave-up" : "retry";
  }
}

function leadName(profile: Record<string, unknown>, email: string): string {
  const name = [profile.firstName, profile.lastName].filter((p) => typeof p === "string" && p).join(" ");
  const company = typeof profile.company === "string" && profile.company ? ` (${profile.company})` : "";
  return `${name || email}${company}`;
}

async function sendHandoffEmail(
  deps: SalesDeps,
  item: QueueItem,
  team: Team,
  rep: Pick<Rep, "email" | "name">,
  extra: { reassignedFrom?: string },
): Promise<void> {
  const template = deps.config.templates[HANDOFF_TEMPLATE];
  if (!template) throw new Error(`the ${HANDOFF_TEMPLATE} template is missing from config/templates`);
  const lead = await deps.leads.getLead(item.leadId);
  if (!lead) throw new Error(`lead ${item.leadId} is gone`);
  const activities = await deps.leads.listActivities(item.leadId, { limit: TIMELINE_ENTRIES });
  const vars = {
    lead: { ...lead.profile, email: lead.email, id: lead.id, segment: lead.segment, stage: lead.stage, score: item.score },
    rep: { name: rep.name, email: rep.email },
    team: { id: team.id, name: team.name },
    reasons: strongestReasons(item.reasons).map(describeReason),
    timeline: activities.map((a) => ({ at: formatTime(a.at), what: describeActivity(a) })),
    lead_url: leadUrl(deps.settings, item.leadId),
    claim_by: formatTime(item.claimBy),
    reassigned_from: extra.reassignedFrom,
  };
  // The lead's name is a variable of a fixed subject, never part of the subject's source.
  const subject = extra.reassignedFrom ? REASSIGNED_SUBJECT : HANDOFF_SUBJECT;
  const rendered = renderTemplate(template, subject, { ...vars, lead_name: leadName(lead.profile, lead.email) });
  await deps.mailer.send({
    to: rep.email,
    from: deps.settings.from,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    headers: {},
    tags: staffEmailTags("handoff", team.id),
  });
}

/** A plain notice (a missed claim, an escalation): short, no template, links to the lead. */
export async function sendNotice(
  deps: Pick<SalesDeps, "mailer" | "settings">,
  to: string,
  subject: string,
  lines: string[],
  leadId: string,
): Promise<void> {
  const url = leadUrl(deps.settings, leadId);
  const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  await deps.mailer.send({
    to,
    from: deps.settings.from,
    subject,
    text: `${lines.join("\n\n")}\n\nOpen the lead: ${url}\n`,
    html: `<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;color:#333">${lines
      .map((l) => `<p>${escapeHtml(l)}</p>`)
      .join("")}<p><a href="${escapeHtml(url)}">Open the lead</a></p></body></html>`,
    headers: {},
    tags: staffEmailTags("handoff-notice"),
  });
}

export interface RetryReport {
  owed: number;
  notified: number;
  retry: number;
  gaveUp: number;
  /** Shards or items whose retry failed before a channel was tried (a store outage); each stays owed. */
  failed: number;
}

/** The periodic job: every item still owed a notification whose pause is over gets another try. */
export async function retryNotifications(deps: SalesDeps, options: number | { limit?: number; deadline?: number } = {}): Promise<RetryReport> {
  const { limit = 100, deadline } = typeof options === "number" ? { limit: options } : options;
  const report: RetryReport = { owed: 0, notified: 0, retry: 0, gaveUp: 0, failed: 0 };
  await sweepDueIndex(
    { shards: deps.sales.notifyShards, listDue: (shard, upTo, batch) => deps.sales.listUnnotified(shard, upTo, batch) },
    async (ref: QueueRef) => {
      const item = await deps.sales.getQueueItem(ref);
      if (!item || item.notifiedAt || item.claimedBy) return;
      report.owed++;
      const result = await notifyQueueItem(deps, item);
      if (result === "notified") report.notified++;
      else if (result === "retry") report.retry++;
      else report.gaveUp++;
    },
    {
      upTo: deps.clock.now().toISOString(),
      batch: limit,
      ...(deadline !== undefined ? { deadline } : {}),
      // One shard or item failing must not stop the others (nor the jobs run after this one): it
      // stays due and the next run takes it again.
      onError: (ref, error) => {
        report.failed++;
        deps.log?.warn("rep notification not retried; it stays owed", { leadId: ref.leadId, error: String(error) });
      },
      onShardError: (shard, error) => {
        report.failed++;
        deps.log?.warn("rep notification not retried; it stays owed", { shard, error: String(error) });
      },
    },
  );
  return report;
}
