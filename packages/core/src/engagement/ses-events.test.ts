import { describe, expect, it } from "vitest";
import { loadConfigOrThrow } from "../config/load";
import { sesEventsConsumed } from "./ses-events";

const config = loadConfigOrThrow("config");

describe("sesEventsConsumed", () => {
  it("asks SES for opens, clicks, bounces and complaints, never its Send event", () => {
    expect(sesEventsConsumed(config)).toEqual(["open", "click", "bounce", "complaint"]);
  });

  it("adds deliveries once a scoring rule gives points for email.delivered", () => {
    const scored = { scoring: { ...config.scoring, behaviour: [...config.scoring.behaviour, { id: "delivered", on: "email.delivered" as const, points: 1 }] } };
    expect(sesEventsConsumed(scored)).toContain("delivery");
    expect(sesEventsConsumed(scored)).not.toContain("send");
  });
});
