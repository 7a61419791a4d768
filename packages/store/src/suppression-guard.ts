/**
 * An address's suppression records as a condition of another write: the lead store knows where
 * they are (in clear, or once erased only as a keyed hash), the nurture store makes its start of
 * an enrollment conditional on neither existing, in the same transaction.
 */
import type { SuppressionGuard } from "@leadloop/core";
import type { Key } from "./keys";

interface KeyedGuard extends SuppressionGuard {
  keys: readonly Key[];
}

export function suppressionGuard(keys: readonly Key[]): SuppressionGuard {
  const guard: KeyedGuard = { kind: "suppression-guard", keys };
  return guard;
}

/** The keys a guard stands for; a guard from another store is a programming error. */
export function guardedKeys(guard: SuppressionGuard): readonly Key[] {
  const { keys } = guard as Partial<KeyedGuard>;
  if (!keys) throw new Error("A suppression guard from another store: build it with DynamoLeadStore.suppressionGuard.");
  return keys;
}
