import { captureAnnounceBy, captureLead, enrollLead, LeadNotYetStoredError, type NurtureStore, PublishError } from "@leadloop/core";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, nurtureHarness, uniqueEmail } from "./harness";

const MINUTE = 60_000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("enrollLead when events and the lead arrive out of order", () => {
  it("asks for another delivery while a fresh event names a lead not stored yet, and drops a stale one", async () => {
    h = await nurtureHarness();
    const leadId = h.leads.leadIdFor(uniqueEmail("early"));
    const published = h.clock.now().toISOString();
    const input = { leadId, sequenceId: "enterprise-nurture", eventTime: published };

    await expect(enrollLead(h.deps, input)).rejects.toBeInstanceOf(LeadNotYetStoredError);
    h.clock.advance(4 * MINUTE);
    await expect(enrollLead(h.deps, input)).rejects.toBeInstanceOf(LeadNotYetStoredError);
    // The capture that announced it never stored it (the client gave up): nothing to enroll.
    h.clock.advance(2 * MINUTE);
    expect(await enrollLead(h.deps, input)).toBe("not-eligible");
    // Without the event's time, a missing lead is simply not eligible.
    expect(await enrollLead(h.deps, { leadId, sequenceId: "enterprise-nurture" })).toBe("not-eligible");
  });

  it("enrolls the lead once its capture has stored it, on the redelivery of the same event", async () => {
    h = await nurtureHarness();
    const email = uniqueEmail("late");
    const input = { leadId: h.leads.leadIdFor(email), sequenceId: "enterprise-nurture", eventTime: h.clock.now().toISOString() };
    await expect(enrollLead(h.deps, input)).rejects.toBeInstanceOf(LeadNotYetStoredError);
    expect(await h.capture(email)).toBe(input.leadId);
    expect(await enrollLead(h.deps, input)).toBe("enrolled");
  });

  it("does not enroll an address suppressed in clear or erased, and still enrolls an address that is not", async () => {
    h = await nurtureHarness();
    const at = h.clock.now().toISOString();
    const unsubscribed = uniqueEmail("unsubscribed");
    const unsubscribedId = await h.capture(unsubscribed);
    await h.leads.suppress({ email: unsubscribed, reason: "unsubscribed", at });
    expect(await enrollLead(h.deps, { leadId: unsubscribedId, sequenceId: "enterprise-nurture" })).toBe("not-eligible");
    expect(await h.nurture.listEnrollments(unsubscribedId)).toEqual([]);

    // An erased address is kept only as its keyed hash; captured again, it is still not enrolled.
    const erased = uniqueEmail("erased");
    await h.leads.suppress({ email: erased, reason: "erased", at });
    const erasedId = await h.capture(erased);
    expect(await enrollLead(h.deps, { leadId: erasedId, sequenceId: "enterprise-nurture" })).toBe("not-eligible");
    expect(await h.nurture.listEnrollments(erasedId)).toEqual([]);

    const calm = await h.capture(uniqueEmail("calm"));
    expect(await enrollLead(h.deps, { leadId: calm, sequenceId: "enterprise-nurture" })).toBe("enrolled");
  });

  it("does not start a sequence that exits on qualification for a lead already qualified", async () => {
    h = await nurtureHarness();
    const leadId = await h.capture(uniqueEmail("qualified"));
    await h.leads.updateLead(leadId, { stage: "mql" }, h.clock.now().toISOString());
    expect(await enrollLead(h.deps, { leadId, sequenceId: "enterprise-nurture" })).toBe("not-eligible");
    expect(await h.nurture.listEnrollments(leadId)).toEqual([]);
  });

  it("ends what it started when the lead qualified while it was enrolling, as the exit handler may have looked too early", async () => {
    h = await nurtureHarness();
    const leadId = await h.capture(uniqueEmail("racing"));
    const { leads, nurture, clock } = h;
    // The scorer qualifies the lead between enrollLead's read and its start.
    const startEnrollment: NurtureStore["startEnrollment"] = async (enrollment, previous, options) => {
      await leads.updateLead(leadId, { stage: "mql" }, clock.now().toISOString());
      return nurture.startEnrollment(enrollment, previous, options);
    };
    const racing = new Proxy(nurture, {
      get: (target, name) => {
        if (name === "startEnrollment") return startEnrollment;
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    expect(await enrollLead({ ...h.deps, nurture: racing }, { leadId, sequenceId: "enterprise-nurture" })).toBe("not-eligible");
    // Nothing left running (the start is conditional on the stage, so it never began).
    expect((await nurture.listEnrollments(leadId)).filter((e) => e.status === "active")).toEqual([]);
  });
});

describe("captureLead announces a new lead before storing it", () => {
  it("stores a new lead listed for the republisher only after the grace, with the event naming the stored id", async () => {
    h = await nurtureHarness();
    const leadId = await h.capture(uniqueEmail("first"));
    const lead = await h.leads.getLead(leadId);
    // Listed until the event's consumer (the scorer, not run here) clears it; not due before the grace.
    expect(lead?.published).toBe(false);
    const now = h.clock.now().toISOString();
    expect((await h.leads.listUnpublished(1000, now)).map((l) => l.id)).not.toContain(leadId);
    expect((await h.leads.listUnpublished(1000, captureAnnounceBy(now))).map((l) => l.id)).toContain(leadId);
    const events = h.bus.history.filter((e) => e.detail.leadId === leadId);
    expect(events.map((e) => e["detail-type"])).toEqual(["lead.captured"]);
    expect(events[0]?.detail).toMatchObject({ segment: lead?.segment, stage: lead?.stage, formId: "demo-request" });
    // No personal data on the bus.
    expect(JSON.stringify(events[0])).not.toContain("@");
  });

  it("stores the lead unpublished when the bus refused the event, for the republisher", async () => {
    h = await nurtureHarness();
    const { config, leads, clock } = h;
    const refusing = { publish: async () => Promise.reject(new PublishError("bus down")) };
    const email = uniqueEmail("down");
    const outcome = await captureLead(
      { config, leads, publisher: refusing, clock },
      "demo-request",
      { email, firstName: "Ada", lastName: "Lovelace", company: "Engines", title: "VP Engineering", companySize: 2000, country: "US", consent: true },
      { ip: "127.0.0.1", userAgent: "test" },
    );
    expect(outcome).toMatchObject({ kind: "stored", created: true, published: false });
    const leadId = leads.leadIdFor(email);
    expect((await leads.listUnpublished(1000)).map((l) => l.id)).toContain(leadId);
  });

  it("announces a known address again after merging, as the merge may move it to another segment", async () => {
    h = await nurtureHarness();
    const email = uniqueEmail("again");
    const leadId = await h.capture(email);
    await h.capture(email, { companySize: 5, title: "Intern" });
    const events = h.bus.history.filter((e) => e.detail.leadId === leadId && e["detail-type"] === "lead.captured");
    // The speculative announcement of the second submission, then the merged lead's.
    expect(events).toHaveLength(3);
    expect(events.at(-1)?.detail.segment).toBe((await h.leads.getLead(leadId))?.segment);
  });
});
