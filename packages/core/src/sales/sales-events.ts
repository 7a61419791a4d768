/**
 * The hand-off's events on the bus, declared with every other event in events.ts and re-exported
 * here for the sales use cases. `lead.qualified` comes from scoring (published once per
 * qualification); the hand-off answers with `lead.assigned`, and the rep's actions publish
 * `lead.claimed` and `lead.closed`.
 */
export { AssignedEventDetail, ClaimedEventDetail, ClosedEventDetail, ClosedOutcome as Outcome, QualifiedEventDetail } from "../events";
