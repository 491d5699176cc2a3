/**
 * Renewing again during an overlap ends the earlier overlap at once: the predecessor still inside
 * it becomes `superseded` in the database, its superseded_at moved to the renewal's time. That
 * change had no entry of its own (the supersession job only audits `renewed` rows, and this one
 * never was again): the log stated a superseded_at a day away and never recorded that it was cut
 * short, by whom, or to when. Only a verifier that knows the rule "a later renewal ends earlier
 * overlaps" could derive it. The renewal now writes a `certificate.superseded` entry for each
 * overlap it ends, with the time it ended it and the renewing caller as actor.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyBundle } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

interface Entry {
  kind: string;
  entry: { at: string; actor: { type: string; id: string }; agent_id: string; data: Record<string, unknown> };
}

describe("a renewal that ends an earlier overlap", () => {
  let o: TestOrigin;
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-renewal-ends-overlap-"));
    o = await startTestOrigin("pglite");
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("audits the supersession it makes, and the bundle still verifies", async () => {
    const { rootPem } = await fetchRoot(o, dir);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const first = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const one = await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certificates/renew`, { body: { overlap_seconds: 86_400 } });
    expect(one.status).toBe(201);
    const two = await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certificates/renew`, { body: { overlap_seconds: 86_400 } });
    expect(two.status).toBe(201);

    const entries = (await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?agent_id=${agent}&kind=certificate.superseded`)).body.data;
    expect(entries).toHaveLength(1);
    const renewed = (await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?agent_id=${agent}&kind=certificate.renewed`)).body.data;
    const second = renewed.find((e) => e.entry.data.successor_serial === two.body.data.serial_number)!;
    const e = entries[0]!.entry;
    expect(e.data).toMatchObject({
      certificate_id: first.id,
      serial_number: first.serial_number,
      superseded_by: one.body.data.serial_number,
      reason_code: "superseded",
    });
    // Ended at the second renewal's time, by its caller.
    expect(e.data.superseded_at).toBe(second.entry.at);
    expect(e.actor).toEqual(second.entry.actor);
    const row = (await o.json<{ data: { status: string; superseded_at: string } }>("GET", `/v1/certificates/${first.id}`)).body.data;
    expect(row.status).toBe("superseded");
    expect(Date.parse(row.superseded_at)).toBe(Date.parse(e.data.superseded_at as string));

    const report = await verifyBundle((await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence`)).body.data, { rootPem });
    expect(report.ok, report.summary).toBe(true);
  }, 120_000);
});
