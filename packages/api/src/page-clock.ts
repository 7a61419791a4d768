/**
 * "Now" for the pages' scripts (/reports' default period, /sales' late badges) is the server's
 * clock, not the browser's: on the local stack that is the virtual clock a developer has moved
 * with /dev/clock/advance, so the pages agree with the API; deployed, it is the real time (the
 * server's, which also corrects a visitor's skewed computer clock).
 */

/** The server's now, for `PAGE_CLOCK_SCRIPT` to read; an ISO instant, nothing a visitor wrote. */
export function pageClockMeta(now: Date): string {
  return `<meta name="leadloop-now" content="${now.toISOString()}">`;
}

/** Defines `clockNow()`: the server's now when the page was served, moving on in real time. */
export const PAGE_CLOCK_SCRIPT = `
const clockOffsetMs = (() => {
  const served = Date.parse(document.querySelector('meta[name="leadloop-now"]')?.content ?? "");
  return Number.isNaN(served) ? 0 : served - Date.now();
})();
const clockNow = () => new Date(Date.now() + clockOffsetMs);
`;
