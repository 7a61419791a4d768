/**
 * Hand-off: the target of the `handoff` rule (`lead.qualified`). Assigns the lead to a team's rep,
 * writes its queue item once per qualification and notifies the rep; a redelivered event finds
 * the item and changes nothing, and a failed notification is left for the sales-sla schedule.
 */
import { handOff } from "@leadloop/core/sales/handoff";
import { salesDeps } from "./lib/sales-deps";
import { ruleTarget } from "./lib/rule-target";
import { useRuntime } from "./lib/runtime";

const deps = salesDeps(useRuntime());

export const handler = ruleTarget(async (event, _rule, { log }) => {
  const result = await handOff(deps, event.detail);
  log.info("hand-off", {
    status: result.status,
    ...(result.status === "assigned" ? { teamId: result.item.teamId, rep: result.item.rep, notified: result.notified } : {}),
  });
});
