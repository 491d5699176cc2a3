/**
 * What tidy writes to the audit log must say who did what to which agent:
 * - an admin's `POST /v1/admin/tidy` first ends the renewal overlaps that are due, and those
 *   `certificate.superseded` entries named `system/renewal` as actor, not the admin whose call
 *   made them (the periodic job's own runs are the system's);
 * - `key.deletion_scheduled` for the key of an agent's certificate carried no `agent_id`: the
 *   deletion of an agent's key was in no agent's chain, not in its evidence, and not found by
 *   `GET /v1/audit/entries?agent_id=`. It now names the agent (a lifecycle entry of its chain), and
 *   the agent's bundle still verifies.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../origin/src/clock.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyBundle } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

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

  it("the scheduled deletion of an agent's key is an entry of that agent", async () => {
    const { rootPem } = await fetchRoot(o, dir);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
    expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "key compromise" } })).status).toBe(200);
    clock.advance(1_000);
    expect((await o.json("POST", "/v1/admin/tidy", { body: { safety_buffer_seconds: 0 } })).status).toBe(200);
    const mine = (await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?agent_id=${agent}&kind=key.deletion_scheduled`)).body.data;
    expect(mine).toHaveLength(1);
    expect(mine[0]!.entry.data).toMatchObject({ certificate_id: cert });
    const report = await verifyBundle((await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence`)).body.data, { rootPem });
    expect(report.ok, report.summary).toBe(true);
  }, 120_000);
});
