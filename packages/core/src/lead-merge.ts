/**
 * What a later submission of a known address may change on its lead. Anyone can type anyone's
 * address into a form, so a submission that proves nothing only fills the fields the lead left
 * blank; a submission from the lead's own browser (it sends the lead token it was given) or an
 * admin's import may also correct what the lead told us before. Whatever the trust, consent and
 * first touch never change on a merge: the consent a later submission carries is kept in that
 * submission's `form.submitted` activity (and in the GDPR export), never in place of the lead's.
 */
import type { Profile, ProfileValue } from "./lead";

/** `owner`: the lead's own browser or an admin import. `unproven`: anybody who knows the address. */
export type SubmissionTrust = "owner" | "unproven";

export interface ProfileMerge {
  profile: Profile;
  /** Fields this submission changed, with the value before (the activity history keeps those). */
  changed: Record<string, { from: ProfileValue | undefined; to: ProfileValue }>;
  /** Fields this submission gave another value for, left as they were because it proved nothing. */
  kept: Record<string, { kept: ProfileValue; offered: ProfileValue }>;
}

export function mergeSubmission(known: Profile, incoming: Profile, trust: SubmissionTrust): ProfileMerge {
  const profile: Profile = { ...known };
  const changed: ProfileMerge["changed"] = {};
  const kept: ProfileMerge["kept"] = {};
  for (const [key, value] of Object.entries(incoming)) {
    // A blank never erases what we knew.
    if (value === "" || value === undefined || value === null) continue;
    const before = known[key];
    if (before === value) continue;
    if (before !== undefined && before !== "" && trust !== "owner") {
      kept[key] = { kept: before, offered: value };
      continue;
    }
    changed[key] = { from: before, to: value };
    profile[key] = value;
  }
  return { profile, changed, kept };
}
