/**
 * What an edit changed, in the marketer's words ("sequence smb-nurture changed: welcome"), so the
 * local stack can say what a hot reload swapped in instead of a bare "reloaded".
 */
import type { LeadloopConfig } from "./schema";

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Added, removed and changed keys of two records, each list sorted. */
function keyed<T>(before: Record<string, T>, after: Record<string, T>): { added: string[]; removed: string[]; changed: string[] } {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return {
    added: keys.filter((k) => !Object.hasOwn(before, k)),
    removed: keys.filter((k) => !Object.hasOwn(after, k)),
    changed: keys.filter((k) => Object.hasOwn(before, k) && Object.hasOwn(after, k) && !same(before[k], after[k])),
  };
}

function byId<T extends { id: string }>(items: readonly T[]): Record<string, T> {
  return Object.fromEntries(items.map((i) => [i.id, i]));
}

/** One line per changed thing; empty when the two configs behave the same. */
export function describeConfigChange(before: LeadloopConfig, after: LeadloopConfig): string[] {
  const lines: string[] = [];
  const section = (noun: string, diff: ReturnType<typeof keyed>, detail?: (id: string) => string) => {
    for (const id of diff.added) lines.push(`${noun} ${id} added`);
    for (const id of diff.removed) lines.push(`${noun} ${id} removed`);
    for (const id of diff.changed) lines.push(`${noun} ${id} changed${detail ? detail(id) : ""}`);
  };
  section("form", keyed(before.forms, after.forms));
  const was = byId(before.sequences);
  const now = byId(after.sequences);
  section("sequence", keyed(was, now), (id) => {
    const a = was[id];
    const b = now[id];
    if (!a || !b) return "";
    const steps = keyed(byId(a.steps), byId(b.steps));
    const parts = [
      ...steps.changed.map((s) => `step ${s}`),
      ...steps.added.map((s) => `step ${s} added`),
      ...steps.removed.map((s) => `step ${s} removed`),
    ];
    const { steps: _a, ...restA } = a;
    const { steps: _b, ...restB } = b;
    if (!same(restA, restB)) parts.unshift("settings");
    if (parts.length === 0 && !same(a.steps.map((s) => s.id), b.steps.map((s) => s.id))) parts.push("step order");
    return parts.length > 0 ? `: ${parts.join(", ")}` : "";
  });
  section("template", keyed(before.templates, after.templates));
  section("broadcast", keyed(byId(before.broadcasts), byId(after.broadcasts)));
  for (const part of ["segments", "scoring", "teams", "rewards"] as const) {
    if (!same(before[part], after[part])) lines.push(`${part} changed`);
  }
  return lines;
}
