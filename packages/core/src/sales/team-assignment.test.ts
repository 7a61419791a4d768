import { describe, expect, it } from "vitest";
import { Team } from "../config/schema";
import fc from "fast-check";
import { chooseTeam, nextRepAfter, RepRotation, repForTurn } from "./team-assignment";

const team = (id: string, extra: Record<string, unknown>) =>
  Team.parse({ id, name: id, claimSla: "PT4H", escalation: { email: "boss@example.com" }, reps: [{ email: "a@example.com", name: "A" }], ...extra });

describe("chooseTeam", () => {
  const teams = [
    team("na", { segments: ["enterprise"], territories: ["US", "CA"] }),
    team("anywhere", { segments: ["enterprise", "smb"] }),
  ];
  it("takes the first team that works the segment and covers the country", () => {
    expect(chooseTeam(teams, "enterprise", "US")?.id).toBe("na");
    expect(chooseTeam(teams, "enterprise", "DE")?.id).toBe("anywhere");
    expect(chooseTeam(teams, "smb", "US")?.id).toBe("anywhere");
  });
  it("sends a lead of unknown country only to a team covering anywhere, and none when no team works the segment", () => {
    expect(chooseTeam(teams, "enterprise", undefined)?.id).toBe("anywhere");
    expect(chooseTeam(teams, "customer", "US")).toBeUndefined();
  });
});

describe("RepRotation", () => {
  it("takes turns under round robin", () => {
    const t = team("rr", { segments: ["smb"], reps: ["a", "b", "c"].map((n) => ({ email: `${n}@example.com`, name: n })) });
    const rotation = new RepRotation();
    expect(Array.from({ length: 6 }, () => rotation.next(t).name)).toEqual(["a", "b", "c", "a", "b", "c"]);
  });
  it("gives each rep exactly their weight in every full cycle, interleaved", () => {
    const t = team("w", {
      segments: ["smb"],
      assignment: "weighted",
      reps: [
        { email: "a@example.com", name: "a", weight: 3 },
        { email: "b@example.com", name: "b", weight: 2 },
        { email: "c@example.com", name: "c", weight: 1 },
      ],
    });
    const rotation = new RepRotation();
    const picks = Array.from({ length: 12 }, () => rotation.next(t).name);
    for (const cycle of [picks.slice(0, 6), picks.slice(6)]) {
      expect(cycle.filter((p) => p === "a")).toHaveLength(3);
      expect(cycle.filter((p) => p === "b")).toHaveLength(2);
      expect(cycle.filter((p) => p === "c")).toHaveLength(1);
    }
    expect(picks.slice(0, 3)).not.toEqual(["a", "a", "a"]);
  });
});

describe("repForTurn", () => {
  const weighted = team("w", {
    segments: ["smb"],
    assignment: "weighted",
    reps: [
      { email: "a@example.com", name: "a", weight: 3 },
      { email: "b@example.com", name: "b", weight: 2 },
      { email: "c@example.com", name: "c", weight: 1 },
    ],
  });
  const roundRobin = team("rr", { segments: ["smb"], reps: ["a", "b", "c", "d"].map((n) => ({ email: `${n}@example.com`, name: n })) });

  it("gives every rep their weight in any window of one full cycle of turns, whichever turn it starts at", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (start) => {
        const picks = Array.from({ length: 6 }, (_, i) => repForTurn(weighted, start + i).name);
        expect(picks.filter((p) => p === "a")).toHaveLength(3);
        expect(picks.filter((p) => p === "b")).toHaveLength(2);
        expect(picks.filter((p) => p === "c")).toHaveLength(1);
      }),
    );
  });

  it("cycles a round-robin team's reps in file order from the first turn", () => {
    expect([1, 2, 3, 4, 5].map((t) => repForTurn(roundRobin, t).name)).toEqual(["a", "b", "c", "d", "a"]);
  });

  it("moves a missed lead to the next rep in the list, wrapping round", () => {
    expect(nextRepAfter(roundRobin, "B@example.com").name).toBe("c");
    expect(nextRepAfter(roundRobin, "d@example.com").name).toBe("a");
  });
});
