/**
 * Who gets a qualified lead, as the teams config says: the first team (in file order) that works
 * the lead's segment and covers its country, then a rep in that team by round robin or by weight.
 * A lead whose country is unknown can only go to a team that covers anywhere (no territories).
 */
import type { Rep, Team } from "../config/schema";

export function chooseTeam(teams: readonly Team[], segment: string, country: string | undefined): Team | undefined {
  return teams.find(
    (t) =>
      t.segments.includes(segment) &&
      (t.territories === undefined || (country !== undefined && t.territories.includes(country.toUpperCase()))),
  );
}

/**
 * Hands out reps in turn. Weighted teams use smooth weighted round robin: over any run of
 * sum-of-weights picks each rep gets exactly their weight, interleaved rather than in blocks, and
 * with no randomness, so a rep's load follows the config and not luck.
 */
export class RepRotation {
  readonly #next = new Map<string, number>();
  readonly #current = new Map<string, number[]>();

  next(team: Team): Rep {
    if (team.assignment === "weighted") return this.#weighted(team);
    const i = this.#next.get(team.id) ?? 0;
    this.#next.set(team.id, (i + 1) % team.reps.length);
    return team.reps[i] as Rep;
  }

  #weighted(team: Team): Rep {
    const current = this.#current.get(team.id) ?? team.reps.map(() => 0);
    const total = team.reps.reduce((sum, r) => sum + r.weight, 0);
    let best = 0;
    team.reps.forEach((rep, i) => {
      current[i] = (current[i] ?? 0) + rep.weight;
      if ((current[i] ?? 0) > (current[best] ?? 0)) best = i;
    });
    current[best] = (current[best] ?? 0) - total;
    this.#current.set(team.id, current);
    return team.reps[best] as Rep;
  }
}
