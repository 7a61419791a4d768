import { describe, expect, it } from "vitest";
import { Duration } from "luxon";
import { InvalidDurationError, InvalidTimeZoneError, addDuration, durationMs, parseDuration } from "./duration";

describe("parseDuration", () => {
  it("reads the config's ISO 8601 durations", () => {
    expect(parseDuration("P1DT12H").as("hours")).toBe(36);
    expect(parseDuration("P1W").as("days")).toBe(7);
  });

  it("names the bad value when a marketer writes prose", () => {
    expect(() => parseDuration("3 days")).toThrow(InvalidDurationError);
    expect(() => parseDuration("3 days")).toThrow(/"3 days".*P3D/);
  });
});

describe("addDuration", () => {
  it("keeps the wall-clock time when a day crosses spring forward in New York", () => {
    // 2024-03-10 is the US spring-forward day: 09:00 EST on the 9th → 09:00 EDT on the 10th (23 h).
    const at = new Date("2024-03-09T14:00:00Z");
    expect(addDuration(at, "P1D", "America/New_York").toISOString()).toBe("2024-03-10T13:00:00.000Z");
  });

  it("keeps the wall-clock time when a day crosses fall back in Berlin", () => {
    // 2024-10-27 Berlin leaves summer time: 10:00 CEST on the 26th → 10:00 CET on the 27th (25 h).
    const at = new Date("2024-10-26T08:00:00Z");
    expect(addDuration(at, "P1D", "Europe/Berlin").toISOString()).toBe("2024-10-27T09:00:00.000Z");
  });

  it("counts hours as elapsed time across a DST change", () => {
    const at = new Date("2024-03-09T14:00:00Z");
    expect(addDuration(at, "PT24H", "America/New_York").toISOString()).toBe("2024-03-10T14:00:00.000Z");
  });

  it("uses UTC without a zone and refuses an unknown zone", () => {
    expect(addDuration(new Date("2024-01-31T10:00:00Z"), "P1M").toISOString()).toBe("2024-02-29T10:00:00.000Z");
    expect(() => addDuration(new Date(), "P1D", "Mars/Olympus")).toThrow(InvalidTimeZoneError);
  });
});

describe("durationMs", () => {
  it("gives fixed lengths", () => {
    expect(durationMs("PT4H")).toBe(4 * 3_600_000);
    expect(durationMs("P1W")).toBe(7 * 86_400_000);
    expect(durationMs("P1DT30M")).toBe(86_400_000 + 1_800_000);
  });

  it("measures every duration the config may write exactly as luxon does, and refuses what luxon refuses", () => {
    const samples = ["P3D", "PT4H", "P1W", "P1M", "P1Y", "P1Y2M3W4DT5H6M7S", "PT0.5H", "PT1,5M", "P0D", "PT90S", "P2W", "P1DT", "P", "PT", "3 days", "P1H", "PT1D", "p1d", "P-1D", "-P1D", "P1.5D", ""];
    for (const iso of samples) {
      const reference = Duration.fromISO(iso);
      if (reference.isValid) expect(durationMs(iso), iso).toBe(reference.toMillis());
      else expect(() => durationMs(iso), iso).toThrow(InvalidDurationError);
    }
  });
});
