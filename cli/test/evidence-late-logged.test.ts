/**
 * An event received before its certificate's revocation but logged after the revocation entry
 * passes the validity check: an edge that forwarded it late (the origin was down) does exactly
 * this. But so does an entry someone with write access to the database appended afterwards with
 * an earlier receipt time (found by a red-team run, 2026-12-07), and the report said nothing: it
 * now warns, naming the entries and how long after the revocation they were logged.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, forwardedEvent, postInternal, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyBundle } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

describe("an event logged after its certificate's revocation, received before it", () => {
  let o: TestOrigin;
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-late-logged-"));
    o = await startTestOrigin("pglite");
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("verifies, with a warning that names it and how late it was logged", async () => {
    const { rootPem } = await fetchRoot(o, dir);
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const to = { agent, tenant, serial: cert.serial_number };
    const event = (id: string, at: Date) => ({ event_id: id, timestamp: at.toISOString(), type: "tool_call", action: "orders.place", outcome: "success" });
    const before = new Date();
    expect((await postInternal(o, "/internal/v1/events", { events: [forwardedEvent(to, event("on-time", before))] })).status).toBe(200);
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "key compromise" } })).status).toBe(200);
    const plain = await verifyBundle((await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence`)).body.data, { rootPem });
    expect(plain.ok, plain.summary).toBe(true);
    expect(plain.checks.find((c) => c.id === "validity")!.notes.join("\n")).not.toMatch(/logged after/);

    const late = { ...forwardedEvent(to, event("late", before)), received_at: before.toISOString() };
    expect((await postInternal(o, "/internal/v1/events", { events: [late] })).status).toBe(200);
    const report = await verifyBundle((await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence`)).body.data, { rootPem });
    expect(report.ok, report.summary).toBe(true);
    const notes = report.checks.find((c) => c.id === "validity")!.notes.join("\n");
    expect(notes).toMatch(
      /warning: 1 event was logged after its certificate's revocation entry but received before the revocation, logged up to \d+ s after the revocation: entry \d+\./,
    );
    expect(notes).toContain("--since-tree-head");
  }, 120_000);
});
