/**
 * markLeadQuality: a rep of the team a lead was handed to tells marketing whether it was a good
 * fit, a bad fit or the wrong contact (with a reason code from teams.yaml for the last two). The
 * latest verdict is kept on the lead and left on its timeline; deal reviews count verdicts and
 * calibration sets them beside the scoring rules that qualified the lead.
 */
import type { Principal } from "../auth-claims";
import { type FieldIssue, NotFoundError, ValidationError } from "../errors";
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

/** Checks a verdict against the config; each problem names its field and what would be valid. */
export function validateQuality(config: SalesDeps["config"], input: unknown): { verdict: QualityVerdict; reason?: string } {
  const raw = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const verdict = QUALITY_VERDICTS.find((v) => v === raw.verdict);
  if (!verdict) throw new ValidationError([{ field: "verdict", message: `must be one of ${QUALITY_VERDICTS.join(", ")}` }]);
  const codes = (config.teams.qualityReasons ?? []).map((r) => r.code);
  const issues: FieldIssue[] = [];
  const reason = typeof raw.reason === "string" && raw.reason !== "" ? raw.reason : undefined;
  if (verdict !== "good-fit" && codes.length > 0 && !reason) {
    issues.push({ field: "reason", message: `a ${verdict} verdict needs a reason, one of ${codes.join(", ")} (config/teams.yaml qualityReasons)` });
  } else if (reason !== undefined && !codes.includes(reason)) {
    issues.push({ field: "reason", message: `"${reason.slice(0, 64)}" is not a reason code; use one of ${codes.join(", ") || "(none listed in config/teams.yaml qualityReasons)"}` });
  } else if (raw.reason !== undefined && raw.reason !== "" && typeof raw.reason !== "string") {
    issues.push({ field: "reason", message: "must be a reason code (text)" });
  }
  if (issues.length > 0) throw new ValidationError(issues);
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
