/**
 * What a simulation run assumes about the leads it invents and how they behave. Every rate is a
 * probability between 0 and 1; defaults are ordinary B2B figures so a marketer can run the
 * simulator with no options at all and change only what they know better.
 */
import { EmailRatesFile } from "./email-rates";
import * as z from "zod";

/** Kinds of synthetic people; `segmentMix` weighs them. Segments come from the config's own rules. */
export const PersonaKind = z.enum(["executive", "manager", "practitioner", "freelancer", "student"]);
export type PersonaKind = z.infer<typeof PersonaKind>;

const Rate = z
  .number()
  .min(0, "must be a share between 0 and 1, such as 0.3")
  .max(1, "must be a share between 0 and 1, such as 0.3 (not a percentage like 30)");

export const SimulationOptions = z
  .object({
    leads: z.number().int().min(1).max(1_000_000).default(1000).describe("synthetic leads captured over the period"),
    days: z.number().int().min(1).max(730).default(30).describe("length of the simulated period"),
    seed: z.number().int().min(0).max(4_294_967_295).default(1).describe("same seed, same forecast"),
    start: z.iso
      .datetime({ offset: true, message: "must be an instant such as 2025-03-03T00:00:00Z" })
      .default("2025-01-06T00:00:00Z")
      .describe("first instant of the period (a Monday by default)"),
    segmentMix: z
      .partialRecord(PersonaKind, z.number().min(0))
      .default({ executive: 0.15, manager: 0.25, practitioner: 0.3, freelancer: 0.15, student: 0.15 })
      .refine((mix) => Object.values(mix).some((w) => (w ?? 0) > 0), { message: "needs at least one positive weight" })
      .describe("relative weights of the kinds of people who fill in the forms"),
    openRate: Rate.default(0.35).describe("share of delivered emails opened"),
    clickRate: Rate.default(0.05).describe("share of delivered emails clicked (a click implies an open)"),
    pageViewRate: Rate.default(0.25).describe("chance per lead per week of browsing the website"),
    webinarRate: Rate.default(0.03).describe("chance per lead per week of attending a webinar"),
    unsubscribeRate: Rate.default(0.004).describe("share of delivered emails that lead to an unsubscribe"),
    bounceRate: Rate.default(0.01).describe("share of sent emails that bounce"),
    confirmRate: Rate.default(0.6).describe("share of double-opt-in sign-ups who confirm"),
    claimMissRate: Rate.default(0.1).describe("chance a rep lets a hand-off pass its claim SLA"),
    winRate: Rate.default(0.2).describe("share of claimed leads won"),
    notNowRate: Rate.default(0.25).describe("share of claimed leads marked not-now (recycled into nurture later)"),
    salesCycleDays: z.number().min(0).max(365).default(14).describe("average days from claim to outcome"),
    purchaseRate: Rate.default(0.2).describe("chance per customer per week of a purchase"),
    emailRates: EmailRatesFile.optional().describe("open and click rates of particular steps or templates (the --rates file)"),
  })
  .refine((o) => o.clickRate <= o.openRate, {
    message: "clickRate cannot exceed openRate: every click is also an open",
    path: ["clickRate"],
  })
  .refine((o) => o.winRate + o.notNowRate <= 1, {
    message: "winRate + notNowRate cannot exceed 1",
    path: ["notNowRate"],
  });
export type SimulationOptions = z.infer<typeof SimulationOptions>;
export type SimulationOptionsInput = z.input<typeof SimulationOptions>;

export class InvalidSimulationOptionsError extends Error {
  override readonly name = "InvalidSimulationOptionsError";
  constructor(readonly issues: { option: string; message: string }[]) {
    super(`Invalid simulation options: ${issues.map((i) => `${i.option} ${i.message}`).join("; ")}`);
  }
}

/** The options with defaults filled in, or an error naming each option that is wrong. */
export function resolveSimulationOptions(input: SimulationOptionsInput = {}): SimulationOptions {
  const result = SimulationOptions.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidSimulationOptionsError(
    result.error.issues.map((issue) => ({ option: issue.path.map(String).join(".") || "options", message: issue.message })),
  );
}
