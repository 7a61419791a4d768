/**
 * The local bus's dead letters, kept in the data folder (`dead-letters.json`) so a delivery that
 * ran out of retries survives a restart and can be redriven (`npm run redrive`), as the SQS
 * dead-letter queues keep them in AWS.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DeadLetter } from "@leadloop/events";

export const deadLetterFile = (dataDir: string): string => join(dataDir, "dead-letters.json");

export function readDeadLetters(file: string): DeadLetter[] {
  if (!existsSync(file)) return [];
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as unknown;
    return Array.isArray(saved) ? (saved as DeadLetter[]) : [];
  } catch (error) {
    // A damaged file must not stop the stack, nor be overwritten unread: keep it aside.
    renameSync(file, `${file}.unreadable-${Date.now()}`);
    console.error(`leadloop: ${file} could not be read (${String(error)}); kept beside it as ${file}.unreadable-*`);
    return [];
  }
}

export function writeDeadLetters(file: string, letters: readonly DeadLetter[]): void {
  // Write then rename: a crash mid-write leaves the previous list, never half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(letters, null, 2));
  renameSync(`${file}.tmp`, file);
}
