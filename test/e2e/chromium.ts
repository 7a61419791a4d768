/**
 * The browser tests' Chromium: Debian's package, driven by playwright-core. Without it they are
 * skipped with a warning on a developer's machine; in CI (.ci/run installs it) they run, so a
 * missing browser fails there instead of passing unseen.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Whether the browser tests run here; warns, naming `what`, when they are skipped. */
export function browserTestsRun(what: string): boolean {
  if (existsSync(CHROMIUM) || process.env.CI) return true;
  console.warn(`skipping ${what}: ${CHROMIUM} is not installed (apt-get install -y chromium; .ci/run does this in CI)`);
  return false;
}

/** A headless Chromium with nothing running in the background that could slow a page or call out. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}
