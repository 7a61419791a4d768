/**
 * The sequence planner: given an enrollment's state, the lead's time zone and "now", it names the
 * next step and when to send it, or says the sequence is over. A planned send is never in the past,
 * always inside the send window on the lead's wall clock (DST included), and never breaks the
 * cross-sequence frequency cap. Step conditions are not judged here: they depend on what the lead
 * did by the time the step is due, so the sender checks them then.
 */
import { DateTime, IANAZone } from "luxon";
import type { SendWindow, Sequence, Step, Weekday } from "./config/schema";
import { addDuration, durationMs } from "./duration";

export interface EnrollmentState {
  /** ISO 8601 instant the lead entered the sequence. */
  enrolledAt: string;
  /** Id of the step handled last (sent or skipped). */
  lastStepId?: string;
  /** ISO 8601 instant of the last send in this sequence. */
  lastSentAt?: string;
  /** Ids of every step already handled; none of them is ever sent again. */
  completedStepIds: readonly string[];
}

export interface PlannedStep {
  done: false;
  step: Step;
  stepIndex: number;
  dueAt: Date;
}

export interface SequenceDone {
  done: true;
  /** `sequence-changed`: the lead's place was edited away and nothing new is left after it. */
  reason: "completed" | "sequence-changed";
}

export interface PlanInput {
  sequence: Pick<Sequence, "steps" | "sendWindow" | "frequencyCap">;
  state: EnrollmentState;
  /** The lead's IANA time zone; unknown or invalid zones fall back to the window's. */
  leadTimeZone?: string;
  now: Date;
  /** ISO 8601 instants of marketing emails sent to this lead, across all sequences. */
  recentSends: readonly string[];
}

export class InvalidInstantError extends Error {
  override readonly name = "InvalidInstantError";
  constructor(readonly value: string) {
    super(`"${value}" is not an ISO 8601 instant.`);
  }
}

export class NoSendWindowError extends Error {
  override readonly name = "NoSendWindowError";
  constructor(window: SendWindow, zone: string) {
    super(`The send window ${window.days.join(",")} ${window.start}-${window.end} never opens in ${zone}.`);
  }
}

export function planNextStep(input: PlanInput): PlannedStep | SequenceDone {
  const { sequence, state, now } = input;
  const next = nextStepOf(sequence.steps, state);
  if ("done" in next) return next;

  const window = sequence.sendWindow;
  const zone = sendZone(window, input.leadTimeZone);
  const base = addDuration(instant(state.lastSentAt ?? state.enrolledAt), next.step.delay, zone);
  let dueAt = fitIntoSendWindow(new Date(Math.max(base.getTime(), now.getTime())), window, zone);

  const cap = sequence.frequencyCap;
  if (cap) {
    const perMs = durationMs(cap.per);
    const sends = input.recentSends.map((s) => instant(s).getTime());
    // Cap compliance can only begin where an earlier send leaves the rolling window, so try those
    // moments in order; each try passes at least one send, so this ends.
    while (!frequencyCapAllows(dueAt, sends, cap.max, perMs)) {
      const t = dueAt.getTime();
      const leave = Math.min(...sends.map((s) => s + perMs).filter((l) => l > t));
      dueAt = fitIntoSendWindow(new Date(leave), window, zone);
    }
  }
  return { done: false, step: next.step, stepIndex: next.index, dueAt };
}

/**
 * The step after the one handled last, found by id so marketers can edit a sequence while leads are
 * in it. When the last step was removed, its old position is unknown, so the lead continues after
 * the last completed step that still exists (from the top if none does). Completed ids are skipped.
 */
export function nextStepOf(
  steps: readonly Step[],
  state: Pick<EnrollmentState, "lastStepId" | "completedStepIds">,
): { step: Step; index: number } | SequenceDone {
  const handled = new Set(state.completedStepIds);
  if (state.lastStepId !== undefined) handled.add(state.lastStepId);
  const lastIndex = state.lastStepId === undefined ? -1 : steps.findIndex((s) => s.id === state.lastStepId);
  const lastRemoved = state.lastStepId !== undefined && lastIndex < 0;
  const anchor = lastIndex >= 0 ? lastIndex : Math.max(-1, ...steps.map((s, i) => (handled.has(s.id) ? i : -1)));
  for (let index = anchor + 1; index < steps.length; index++) {
    const step = steps[index];
    if (step && !handled.has(step.id)) return { step, index };
  }
  return { done: true, reason: lastRemoved ? "sequence-changed" : "completed" };
}

// ---------------------------------------------------------------------------------------------
// Send windows, on the lead's wall clock.

const WEEKDAYS: readonly Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** The zone a window is read in: the lead's if valid, else the window's own, else UTC. */
export function sendZone(window: Pick<SendWindow, "timezone">, leadTimeZone?: string): string {
  if (leadTimeZone && isValidZone(leadTimeZone)) return leadTimeZone;
  if (isValidZone(window.timezone)) return window.timezone;
  return "UTC";
}

/**
 * Luxon checks a zone by building an Intl.DateTimeFormat each time, which cost the sweeper about a
 * millisecond of CPU a send (bench:dispatch's profile); a zone's validity never changes, so the
 * answer is kept, for a bounded number of zones (a lead's zone is visitor data).
 */
const zoneValidity = new Map<string, boolean>();
const ZONES_KEPT = 1000;
function isValidZone(zone: string): boolean {
  const known = zoneValidity.get(zone);
  if (known !== undefined) return known;
  const valid = IANAZone.isValidZone(zone);
  if (zoneValidity.size < ZONES_KEPT) zoneValidity.set(zone, valid);
  return valid;
}

function minutesOf(time: string): number {
  const [h, m] = time.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** Open on the window's days from `start` (inclusive) to `end` (exclusive), local wall-clock time. */
export function isInSendWindow(at: Date, window: SendWindow, zone?: string): boolean {
  const local = DateTime.fromJSDate(at, { zone: sendZone(window, zone) });
  if (!window.days.includes(WEEKDAYS[local.weekday - 1] as Weekday)) return false;
  const ms = ((local.hour * 60 + local.minute) * 60 + local.second) * 1000 + local.millisecond;
  return ms >= minutesOf(window.start) * 60_000 && ms < minutesOf(window.end) * 60_000;
}

/**
 * The first moment at or after `at` when the window opens. A start time that does not exist that
 * day (spring forward) opens at the end of the gap; one that happens twice (fall back) opens at
 * whichever occurrence comes first after `at`.
 */
export function nextWindowStart(at: Date, window: SendWindow, zone?: string): Date {
  const tz = sendZone(window, zone);
  const local = DateTime.fromJSDate(at, { zone: tz });
  const start = minutesOf(window.start);
  for (let day = 0; day <= 14; day++) {
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day + day));
    const weekday = WEEKDAYS[(date.getUTCDay() + 6) % 7] as Weekday;
    if (!window.days.includes(weekday)) continue;
    for (const ms of wallClockInstants(tz, date.getTime() + start * 60_000)) {
      const opening = new Date(ms);
      if (ms >= at.getTime() && isInSendWindow(opening, window, tz)) return opening;
    }
  }
  throw new NoSendWindowError(window, tz);
}

/** `at` itself when the window is open then, else the window's next opening. */
export function fitIntoSendWindow(at: Date, window: SendWindow, zone?: string): Date {
  return isInSendWindow(at, window, zone) ? at : nextWindowStart(at, window, zone);
}

/**
 * The instants whose local time in `zone` reads `wallMs` (a wall-clock time written as if UTC):
 * one normally, two in a fall-back overlap, and in a spring-forward gap the instant the gap ends.
 */
function wallClockInstants(zone: string, wallMs: number): number[] {
  const tz = IANAZone.create(zone);
  const day = 86_400_000;
  const offsets = [...new Set([tz.offset(wallMs - day), tz.offset(wallMs), tz.offset(wallMs + day)])];
  const found = offsets.map((o) => wallMs - o * 60_000).filter((ms) => tz.offset(ms) * 60_000 === wallMs - ms);
  if (found.length > 0) return [...new Set(found)].sort((a, b) => a - b);
  // In a gap: the transition lies between the readings with the largest and smallest offsets.
  let lo = wallMs - Math.max(...offsets) * 60_000;
  let hi = wallMs - Math.min(...offsets) * 60_000;
  const before = tz.offset(lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (tz.offset(mid) === before) lo = mid;
    else hi = mid;
  }
  return [hi];
}

// ---------------------------------------------------------------------------------------------
// Frequency cap.

/**
 * True when a send at `at` keeps every rolling window of `perMs` that contains it at `max` sends
 * or fewer. Windows that do not contain `at` are history this send cannot change.
 */
export function frequencyCapAllows(at: Date, sends: readonly number[], max: number, perMs: number): boolean {
  const t = at.getTime();
  const nearby = sends.filter((s) => Math.abs(s - t) < perMs);
  const sorted = [...nearby, t].sort((a, b) => a - b);
  const self = sorted.indexOf(t);
  // max + 1 consecutive sends including this one that span less than `perMs` share a window.
  for (let first = Math.max(0, self - max); first <= self; first++) {
    const last = sorted[first + max];
    const head = sorted[first];
    if (last !== undefined && head !== undefined && last - head < perMs) return false;
  }
  return true;
}

function instant(iso: string): Date {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new InvalidInstantError(iso);
  return date;
}
