import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalStack } from "@leadloop/local";
import { afterAll, describe, expect, it } from "vitest";
import { demoLead, post } from "./local-stack";

const dataDir = mkdtempSync(join(tmpdir(), "leadloop-restart-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("the local stack keeps its data under the data folder", () => {
  it("finds the same lead, clock and token key after a restart", { timeout: 120_000 }, async () => {
    const options = { port: 0, dataDir, logLevel: "silent" as const, tickEveryMs: 60_000 };
    const first = await startLocalStack(options);
    let leadId: string;
    let token: string;
    try {
      const res = await post(`${first.url}/v1/forms/demo-request/submissions`, demoLead("restart@acme.example"));
      expect(res.status).toBe(202);
      ({ leadId, token } = (await res.json()) as { leadId: string; token: string });
      await post(`${first.url}/dev/clock/advance`, { by: "P2D" });
    } finally {
      await first.stop();
    }

    const second = await startLocalStack(options);
    try {
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
