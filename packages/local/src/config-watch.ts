/**
 * Watching `config/` for the local stack's hot reload: a fingerprint of every file (to tell which
 * files an edit touched and to give the running config a version), and a debounced recursive watch
 * (an editor's save is several events: write, rename, chmod).
 */
import { createHash } from "node:crypto";
import { type FSWatcher, readdirSync, readFileSync, watch } from "node:fs";
import { basename, join, relative, resolve } from "node:path";

export interface ConfigFingerprint {
  /** Short hash of every file's path and content. */
  version: string;
  /** Hash per file, keyed by its path as config:check shows it (`config/sequences/smb.yaml`). */
  files: Record<string, string>;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

export function fingerprintConfig(dir: string): ConfigFingerprint {
  const root = resolve(dir);
  const files: Record<string, string> = {};
  const all = createHash("sha256");
  for (const path of walk(root).sort()) {
    const shown = [basename(root), relative(root, path)].join("/");
    let content: Buffer;
    try {
      content = readFileSync(path);
    } catch {
      continue; // removed between the listing and the read: the next event reports it
    }
    files[shown] = createHash("sha256").update(content).digest("hex");
    all.update(shown).update("\0").update(files[shown]).update("\0");
  }
  return { version: all.digest("hex").slice(0, 12), files };
}

/** Files added, removed or edited between two fingerprints, sorted. */
export function changedFiles(before: ConfigFingerprint, after: ConfigFingerprint): string[] {
  const names = new Set([...Object.keys(before.files), ...Object.keys(after.files)]);
  return [...names].filter((n) => before.files[n] !== after.files[n]).sort();
}

/** Calls `onSettled` once the folder has been quiet for `debounceMs` after a change; returns a stop function. */
export function watchFolder(dir: string, onSettled: () => void, debounceMs = 250): () => void {
  let timer: NodeJS.Timeout | undefined;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onSettled, debounceMs);
    timer.unref();
  };
  let watcher: FSWatcher | undefined = watch(resolve(dir), { recursive: true }, changed);
  watcher.on("error", () => {
    // The folder itself was removed or replaced; there is nothing left to watch.
    watcher?.close();
    watcher = undefined;
  });
  watcher.unref();
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
