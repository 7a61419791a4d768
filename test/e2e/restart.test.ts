import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalStack } from "@leadloop/local";
import { freePort } from "@leadloop/local/engines/engine-process";
import { afterAll, describe, expect, it } from "vitest";
import { demoLead, post } from "./local-stack";

const dataDir = mkdtempSync(join(tmpdir(), "leadloop-restart-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("the local stack keeps its data under the data folder", () => {
  it("finds the same lead, clock, token key and sent emails after a restart", { timeout: 120_000 }, async () => {
    // A fixed viewer port, as npm start gives it (PORT + 5): the viewer's URL survives the restart.
    const options = { port: 0, sesPort: await freePort(), dataDir, logLevel: "silent" as const, tickEveryMs: 60_000 };
    const first = await startLocalStack(options);
    let leadId: string;
    let token: string;
    let sentBefore: { messageId: string; subject: string; to: string[] }[];
    try {
      const res = await post(`${first.url}/v1/forms/demo-request/submissions`, demoLead("restart@acme.example"));
      expect(res.status).toBe(202);
      ({ leadId, token } = (await res.json()) as { leadId: string; token: string });
      await post(`${first.url}/dev/clock/advance`, { by: "P2D" });
      sentBefore = (await (await fetch(`${first.url}/dev/emails?to=restart@acme.example`)).json()) as typeof sentBefore;
      expect(sentBefore.length).toBeGreaterThan(0);
    } finally {
      await first.stop();
    }

    const second = await startLocalStack(options);
    try {
      expect(second.sesEndpoint).toBe(first.sesEndpoint);
      const sentAfter = (await (await fetch(`${second.url}/dev/emails?to=restart@acme.example`)).json()) as (typeof sentBefore[number] & { leadId?: string })[];
      expect(sentAfter.map((e) => [e.messageId, e.subject])).toEqual(sentBefore.map((e) => [e.messageId, e.subject]));
      // Still tied to its lead (from the store's message records), so engagement can be injected.
      expect(sentAfter[0]?.leadId).toBe(leadId);
      // The emulator's own viewer reads the same store, and the demo page links to it.
      const viewerStore = (await (await fetch(`${second.sesEndpoint}/store`)).json()) as { emails: { messageId: string }[] };
      expect(viewerStore.emails.map((e) => e.messageId)).toEqual(expect.arrayContaining(sentBefore.map((e) => e.messageId)));
      expect(await (await fetch(`${second.url}/`)).text()).toContain(`href="${second.sesEndpoint}/"`);
      const lead = await second.store.getLead(leadId);
      expect(lead?.email).toBe("restart@acme.example");
      expect(second.clock.offsetMs).toBeGreaterThanOrEqual(2 * 86_400_000);
      expect(second.signer.verify(token, "lead", second.clock.now()).sub).toBe(leadId);
      // A second submission after the restart still merges into the same lead.
      const again = await post(`${second.url}/v1/forms/demo-request/submissions`, demoLead("restart@acme.example", { title: "CTO" }));
      expect(((await again.json()) as { leadId: string }).leadId).toBe(leadId);
    } finally {
      await second.stop();
    }
  });
});
