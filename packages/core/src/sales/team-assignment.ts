/**
 * Who gets a qualified lead, as the teams config says: the first team (in file order) that works
 * the lead's segment and covers its country, then a rep in that team by round robin or by weight.
 * A lead whose country is unknown can only go to a team that covers anywhere (no territories).
 * The live hand-off and the simulator share these functions, so a forecast rotates reps exactly
 * as production does.
 */
import type { Rep, Team } from "../config/schema";

export function chooseTeam(teams: readonly Team[], segment: string, country: string | undefined): Team | undefined {
  return teams.find(
    (t) =>
      t.segments.includes(segment) &&
      (t.territories === undefined || (country !== undefined && t.territories.includes(country.trim().toUpperCase()))),
  );
}

/**
 * One full cycle of smooth weighted round robin: over the cycle (sum-of-weights picks) each rep
 * appears exactly their weight times, interleaved rather than in blocks, with no randomness.
 */
export function weightedCycle(reps: readonly Rep[]): number[] {
  const total = reps.reduce((sum, r) => sum + r.weight, 0);
  const current = reps.map(() => 0);
  const cycle: number[] = [];
  for (let pick = 0; pick < total; pick++) {
    let best = 0;
    reps.forEach((rep, i) => {
      current[i] = (current[i] ?? 0) + rep.weight;
      if ((current[i] ?? 0) > (current[best] ?? 0)) best = i;
    });
    current[best] = (current[best] ?? 0) - total;
    cycle.push(best);
  }
  return cycle;
}

/**
 * The rep for the team's `turn`-th hand-off (turns count from 1, as DynamoDB's `ADD turn :1`
 * returns them). Distinct turns give a fair share: round robin cycles the reps, weighted teams
 * cycle the weighted order, so any run of consecutive turns follows the config, not luck.
 */
export function repForTurn(team: Team, turn: number): Rep {
  const index = Math.max(0, Math.floor(turn) - 1);
  if (team.assignment === "weighted") {
    const cycle = weightedCycle(team.reps);
    return team.reps[cycle[index % cycle.length] ?? 0] as Rep;
  }
  return team.reps[index % team.reps.length] as Rep;
}

/** The rep after `email` in the team's list (wrapping): who a lead moves to when a claim is missed. */
export function nextRepAfter(team: Team, email: string): Rep {
  const i = team.reps.findIndex((r) => r.email.toLowerCase() === email.toLowerCase());
  return team.reps[(i + 1) % team.reps.length] as Rep;
}

/** Whether this address is one of the team's reps. */
export function isTeamRep(team: Team, email: string | undefined): boolean {
  if (!email) return false;
  return team.reps.some((r) => r.email.toLowerCase() === email.toLowerCase());
}

/** Hands out reps in turn, in memory (the simulator's stand-in for the per-team turn counter). */
export class RepRotation {
  readonly #turns = new Map<string, number>();

  next(team: Team): Rep {
    const turn = (this.#turns.get(team.id) ?? 0) + 1;
    this.#turns.set(team.id, turn);
    return repForTurn(team, turn);
  }
}
