/**
 * What tidy writes to the audit log must say who did what to which agent:
 * - an admin's `POST /v1/admin/tidy` first ends the renewal overlaps that are due, and those
 *   `certificate.superseded` entries named `system/renewal` as actor, not the admin whose call
 *   made them (the periodic job's own runs are the system's);
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../origin/src/clock.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";

interface Entry {
  kind: string;
  entry: { agent_id: string | null; actor: { type: string; id: string }; data: Record<string, unknown> };
}

describe("tidy's audit entries", () => {
  let o: TestOrigin;
  let dir = "";
  const clock = new ManualClock(new Date());
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-tidy-attribution-"));
    o = await startTestOrigin("pglite", { clock });
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an admin's tidy names the admin as the actor of the supersessions it makes", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    expect((await o.json("POST", `/v1/agents/${agent}/certificates/renew`, { body: { overlap_seconds: 60 } })).status).toBe(201);
    clock.advance(120_000);
    const r = await o.json<{ data: { superseded: number } }>("POST", "/v1/admin/tidy", { body: {} });
    expect(r.status).toBe(200);
    expect(r.body.data.superseded).toBeGreaterThanOrEqual(1);
    const entries = (await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?agent_id=${agent}&kind=certificate.superseded`)).body.data;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.entry.actor.type).toBe("api_key");
  }, 120_000);
});
