/**
 * markLeadQuality: a rep of the team a lead was handed to tells marketing whether it was a good
 * fit, a bad fit or the wrong contact (with a reason code from teams.yaml for the last two). The
 * latest verdict is kept on the lead and left on its timeline; deal reviews count verdicts and
 * calibration sets them beside the scoring rules that qualified the lead.
 */
import * as z from "../zod-mini";
import type { Principal } from "../auth-claims";
import { NotFoundError, ValidationError } from "../errors";
import { fieldIssues, givenFields } from "../request-body";
import type { Clock, LeadStore } from "../ports";
import { actorOf, isAdmin } from "../sales/claim";
import { findTeam, type SalesDeps } from "../sales/sales-deps";
import { NotYourLeadError } from "../sales/sales-errors";
import { isTeamRep } from "../sales/team-assignment";
import { QUALITY_VERDICTS, type QualityFlag, type QualityVerdict } from "./deal-review";

/** The verdicts' port: one item per lead, the latest verdict. */
export interface LeadQualityStore {
  setQuality(flag: QualityFlag): Promise<void>;
  /** The latest verdict of each lead that has one. */
  getQualities(leadIds: string[]): Promise<Map<string, QualityFlag>>;
}

export interface LeadQualityDeps extends Pick<SalesDeps, "config" | "sales"> {
  leads: Pick<LeadStore, "appendActivity">;
  quality: LeadQualityStore;
  clock: Clock;
}

export const LEAD_QUALITY_ACTIVITY = "lead.quality";

/** What a rep sends to judge a lead; validateQuality checks the reason against the config. */
export const QualityRequest = z
  .object({
    verdict: z.enum(QUALITY_VERDICTS, `must be one of ${QUALITY_VERDICTS.join(", ")}`),
    reason: z
      .optional(z.string("must be a reason code (text)"))
      .check(z.describe("a code of config/teams.yaml qualityReasons; a bad-fit or wrong-contact verdict needs one when the file lists any")),
  })
  .check(z.meta({ title: "Quality", description: "A rep's verdict on a lead handed to sales. A 422 names each wrong field and what would be valid." }));
export type QualityRequest = z.input<typeof QualityRequest>;

/** Checks a verdict: its shape by QualityRequest, then the reason against the config. */
export function validateQuality(config: SalesDeps["config"], input: unknown): { verdict: QualityVerdict; reason?: string } {
  const body = givenFields(input);
  const parsed = QualityRequest.safeParse(body);
  const issues = parsed.success ? [] : fieldIssues(parsed.error);
  const codes = (config.teams.qualityReasons ?? []).map((r) => r.code);
  if (!issues.some((i) => i.field === "reason")) {
    const verdict = parsed.data?.verdict;
    if (typeof body.reason === "string" && !codes.includes(body.reason)) {
      issues.push({ field: "reason", message: `"${body.reason.slice(0, 64)}" is not a reason code; use one of ${codes.join(", ") || "(none listed in config/teams.yaml qualityReasons)"}` });
    } else if (verdict && verdict !== "good-fit" && codes.length > 0 && body.reason === undefined) {
      issues.push({ field: "reason", message: `a ${verdict} verdict needs a reason, one of ${codes.join(", ")} (config/teams.yaml qualityReasons)` });
    }
  }
  if (!parsed.success || issues.length > 0) throw new ValidationError(issues);
  const { verdict, reason } = parsed.data;
  return { verdict, ...(reason ? { reason } : {}) };
}

export async function markLeadQuality(deps: LeadQualityDeps, principal: Principal, leadId: string, input: unknown): Promise<QualityFlag> {
  const checked = validateQuality(deps.config, input);
  const handoff = await deps.sales.getHandoff(leadId);
  if (!handoff) throw new NotFoundError(`Lead ${leadId} has not been handed to sales, so there is no verdict to give on it yet.`);
  const team = findTeam(deps, handoff.teamId);
  if (!isAdmin(principal) && !(team && isTeamRep(team, principal.email))) {
    throw new NotYourLeadError(`Lead ${leadId} went to the ${team?.name ?? handoff.teamId} team; only its reps (or an admin) can judge it.`);
  }
  const at = deps.clock.now().toISOString();
  const flag: QualityFlag = { leadId, ...checked, rep: actorOf(principal), at };
  await deps.quality.setQuality(flag);
  await deps.leads.appendActivity(leadId, { type: LEAD_QUALITY_ACTIVITY, at, data: { verdict: flag.verdict, rep: flag.rep, ...(flag.reason ? { reason: flag.reason } : {}) } });
  return flag;
}
