/**
 * A step's `condition: { previous: … }` reads the engagement of the email sent just before it in
 * its sequence. Inserting, removing or reordering steps silently changes which email that is;
 * this compares a sequence file with its last committed version and names every such shift.
 */
import type { Problem } from "./problem";
import { parseYamlSource, type YamlSource } from "./yaml-source";

export interface SequenceVersions {
  /** Path shown to people, e.g. `config/sequences/smb.yaml`. */
  file: string;
  /** The file as it is now. */
  current: string;
  /** The file as last committed; undefined for a file that is new. */
  committed: string | undefined;
}

/** Warnings, not errors: the marketer may mean the new reading, but should never be surprised by it. */
export function previousConditionShifts(versions: SequenceVersions): Problem[] {
  if (versions.committed === undefined) return [];
  const now = parseYamlSource(versions.file, versions.current);
  const before = parseYamlSource(versions.file, versions.committed);
  const was = new Map(stepIds(before).map((id, i, ids) => [id, ids[i - 1]]));
  const problems: Problem[] = [];
  steps(now).forEach((step, i, all) => {
    const previous = conditionPrevious(step);
    const id = typeof step.id === "string" ? step.id : undefined;
    if (previous === undefined || id === undefined || !was.has(id)) return;
    const refersTo = typeof all[i - 1]?.id === "string" ? (all[i - 1]?.id as string) : undefined;
    const referredTo = was.get(id);
    if (refersTo === referredTo) return;
    problems.push({
      file: versions.file,
      ...now.positionOf(["steps", i, "condition", "previous"]),
      message:
        `warning: step \`${id}\`'s condition \`previous: ${previous}\` now reads the email of ` +
        `${refersTo ? `step \`${refersTo}\`` : "no step (it is first)"}, not of ${referredTo ? `step \`${referredTo}\`` : "no step"} as in the last commit`,
      hint: "if that is not what you meant, move the step back or change its condition",
    });
  });
  return problems;
}

type RawStep = Record<string, unknown>;

function steps(source: YamlSource): RawStep[] {
  const data = source.data as { steps?: unknown } | undefined;
  return Array.isArray(data?.steps) ? data.steps.map((s) => (s !== null && typeof s === "object" ? (s as RawStep) : {})) : [];
}

function stepIds(source: YamlSource): (string | undefined)[] {
  return steps(source).map((s) => (typeof s.id === "string" ? s.id : undefined));
}

function conditionPrevious(step: RawStep): string | undefined {
  const condition = step.condition as { previous?: unknown } | undefined;
  return typeof condition?.previous === "string" ? condition.previous : undefined;
}
