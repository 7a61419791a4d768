/**
 * Invents the people who fill in the forms: plausible names, titles, company sizes, countries with
 * their time zones, company or free-mail addresses, arriving mostly on weekdays in working hours.
 * Each lead is built from its own random stream (see `streamSeed`), and only the fields its form
 * collects reach its profile, exactly as a real submission would.
 */
import { DateTime } from "luxon";
import type { Form, LeadloopConfig } from "../config/schema";
import type { Profile } from "../lead";
import type { Prng } from "./prng";
import type { PersonaKind } from "./simulation-options";

export interface Persona {
  kind: PersonaKind;
  /** How likely this kind is to open, click and browse, relative to the configured rates. */
  engagement: number;
  /** How likely a claimed lead of this kind is won, relative to the configured win rate. */
  buying: number;
  /** How likely this kind is to pick the richest (demo-like) form over a light one, 0..1. */
  intent: number;
  titles: readonly string[];
  companySize: readonly [number, number] | undefined;
  freeMail: number;
}

export const PERSONAS: Record<PersonaKind, Persona> = {
  executive: {
    kind: "executive",
    engagement: 0.8,
    buying: 1.4,
    intent: 0.65,
    titles: ["VP of Marketing", "Director of Analytics", "Head of Data", "CTO", "Chief Revenue Officer", "VP Sales Operations", "CFO"],
    companySize: [200, 50_000],
    freeMail: 0.05,
  },
  manager: {
    kind: "manager",
    engagement: 1,
    buying: 1.1,
    intent: 0.45,
    titles: ["Marketing Manager", "BI Team Lead", "Operations Manager", "Product Manager", "Analytics Manager"],
    companySize: [20, 5_000],
    freeMail: 0.1,
  },
  practitioner: {
    kind: "practitioner",
    engagement: 1.15,
    buying: 0.8,
    intent: 0.25,
    titles: ["Data Analyst", "Analytics Engineer", "Marketing Specialist", "Software Engineer", "Business Analyst"],
    companySize: [10, 10_000],
    freeMail: 0.2,
  },
  freelancer: {
    kind: "freelancer",
    engagement: 0.9,
    buying: 0.6,
    intent: 0.15,
    titles: ["Consultant", "Founder", "Freelance Data Analyst", "Owner"],
    companySize: [1, 10],
    freeMail: 0.7,
  },
  student: {
    kind: "student",
    engagement: 0.7,
    buying: 0.1,
    intent: 0.05,
    titles: ["Student", "PhD Candidate", "Research Assistant"],
    companySize: undefined,
    freeMail: 0.95,
  },
};

/** Country, share of leads, and the time zones people there work in. */
const COUNTRIES: readonly (readonly [string, number, readonly string[]])[] = [
  ["US", 0.34, ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]],
  ["CA", 0.05, ["America/Toronto", "America/Vancouver"]],
  ["GB", 0.1, ["Europe/London"]],
  ["DE", 0.09, ["Europe/Berlin"]],
  ["FR", 0.05, ["Europe/Paris"]],
  ["NL", 0.04, ["Europe/Amsterdam"]],
  ["SE", 0.03, ["Europe/Stockholm"]],
  ["DK", 0.02, ["Europe/Copenhagen"]],
  ["ES", 0.04, ["Europe/Madrid"]],
  ["IT", 0.03, ["Europe/Rome"]],
  ["IN", 0.08, ["Asia/Kolkata"]],
  ["BR", 0.04, ["America/Sao_Paulo"]],
  ["AU", 0.05, ["Australia/Sydney"]],
  ["JP", 0.04, ["Asia/Tokyo"]],
];

const FIRST_NAMES = ["Ava", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kira", "Liam", "Maya", "Noah", "Olivia", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Yusuf", "Zoe"];
const LAST_NAMES = ["Andersen", "Brown", "Costa", "Dubois", "Eriksson", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Khan", "Lopez", "Müller", "Nakamura", "Okafor", "Patel", "Rossi", "Smith", "Tanaka", "Vermeer", "Wagner", "Yilmaz"];
const COMPANY_WORDS = ["Northwind", "Bluepeak", "Cobalt", "Driftwood", "Evergreen", "Fjord", "Granite", "Harbor", "Ironclad", "Juniper", "Keystone", "Lumen", "Meridian", "Nimbus", "Orchard", "Pinnacle", "Quarry", "Redwood", "Summit", "Tidal"];
const COMPANY_KINDS = ["Logistics", "Health", "Retail", "Labs", "Energy", "Foods", "Software", "Bank", "Media", "Robotics"];
const FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "gmx.net", "web.de", "proton.me", "icloud.com"];

export interface SyntheticLead {
  index: number;
  persona: Persona;
  formId: string;
  /** When the form is submitted. */
  arrivesAt: Date;
  /** Everything the person would tell us; the profile holds only what the form asks. */
  attributes: Profile;
  /** What the form submission carries, as capture would store it. */
  profile: Profile;
  email: string;
  country: string;
  timezone: string;
}

export interface LeadPeriod {
  start: Date;
  days: number;
}

export function generateLead(
  index: number,
  rng: Prng,
  mix: Partial<Record<PersonaKind, number>>,
  forms: LeadloopConfig["forms"],
  period: LeadPeriod,
): SyntheticLead {
  const kind = rng.weighted(Object.entries(mix).map(([k, w]) => [k as PersonaKind, w ?? 0] as const));
  const persona = PERSONAS[kind];
  const [country, , zones] = rng.weighted(COUNTRIES.map((c) => [c, c[1]] as const));
  const timezone = rng.pick(zones);
  const firstName = rng.pick(FIRST_NAMES);
  const lastName = rng.pick(LAST_NAMES);
  const company = persona.companySize ? `${rng.pick(COMPANY_WORDS)} ${rng.pick(COMPANY_KINDS)}` : undefined;
  const freeMail = company === undefined || rng.chance(persona.freeMail);
  const domain = freeMail
    ? rng.pick(FREE_MAIL)
    : `${(company ?? "").toLowerCase().replace(/[^a-z0-9]+/g, "-")}.com`;
  // Distinct local parts keep the synthetic addresses unique, as dedupe would make them anyway.
  const email = `${ascii(firstName)}.${ascii(lastName)}${index}@${domain}`;
  const attributes: Profile = {
    email,
    firstName,
    lastName,
    title: rng.pick(persona.titles),
    country,
    timezone,
    phone: `+1 555 ${String(rng.int(100, 999))} ${String(rng.int(1000, 9999))}`,
  };
  if (company !== undefined) attributes.company = company;
  if (persona.companySize) {
    // Company sizes spread over orders of magnitude, so draw the logarithm evenly.
    const [lo, hi] = persona.companySize;
    attributes.companySize = Math.round(Math.exp(rng.between(Math.log(lo), Math.log(hi))));
  }

  const formId = chooseForm(rng, persona, forms);
  const form = forms[formId];
  const profile = form ? submittedProfile(rng, form, attributes) : { email };
  return { index, persona, formId, arrivesAt: arrivalTime(rng, timezone, period), attributes, profile, email, country, timezone };
}

/**
 * Forms ranked by how much they ask: people with buying intent fill in the long (demo-like) form,
 * the others spread over the light ones (whitepaper, newsletter).
 */
function chooseForm(rng: Prng, persona: Persona, forms: LeadloopConfig["forms"]): string {
  const ranked = Object.entries(forms)
    .map(([id, form]) => [id, Object.keys(form.fields).length] as const)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([id]) => id);
  if (ranked.length <= 1) return ranked[0] ?? "unknown-form";
  const rest = (1 - persona.intent) / (ranked.length - 1);
  return rng.weighted(ranked.map((id, i) => [id, i === 0 ? persona.intent : rest] as const));
}

function submittedProfile(rng: Prng, form: Form, attributes: Profile): Profile {
  const profile: Profile = {};
  for (const [name, field] of Object.entries(form.fields)) {
    const known = attributes[name];
    if (field.type === "hidden" || name === form.honeypot) continue;
    if (known !== undefined) {
      // People skip optional fields now and then; the page script fills the time zone itself.
      const keep = field.required || (field.type === "timezone" ? rng.chance(0.95) : rng.chance(0.6));
      if (keep) profile[name] = field.type === "number" && typeof known === "number" ? clamp(known, field.min, field.max) : known;
      continue;
    }
    if (!field.required) continue;
    if (field.type === "select" && field.options) profile[name] = rng.pick(field.options);
    else if (field.type === "checkbox") profile[name] = true;
    else if (field.type === "number") profile[name] = clamp(rng.int(1, 500), field.min, field.max);
    else if (field.type === "country") profile[name] = attributes.country ?? "US";
    else profile[name] = name === "company" ? "Independent" : "n/a";
  }
  return profile;
}

/** Uniform over the period, thinned to weekdays and the person's working hours. */
function arrivalTime(rng: Prng, zone: string, period: LeadPeriod): Date {
  const startMs = period.start.getTime();
  const spanMs = period.days * 86_400_000;
  for (let attempt = 0; attempt < 200; attempt++) {
    const at = startMs + rng.next() * spanMs;
    const local = DateTime.fromMillis(at, { zone });
    const weekday = local.weekday <= 5 ? 1 : 0.3;
    const hour = local.hour >= 8 && local.hour < 18 ? 1 : local.hour >= 6 && local.hour < 23 ? 0.35 : 0.05;
    if (rng.chance(weekday * hour)) return new Date(Math.floor(at));
  }
  return new Date(startMs + Math.floor(rng.next() * spanMs));
}

function clamp(n: number, min: number | undefined, max: number | undefined): number {
  return Math.min(max ?? n, Math.max(min ?? n, n));
}

function ascii(name: string): string {
  return name
    .normalize("NFD")
    .replace(/[^A-Za-z]/g, "")
    .toLowerCase();
}
