/**
 * An export finds where its window's stretch closes, then appends its checkpoint. Until
 * 2026-12-07 it did the first outside the log's lock: an entry another writer committed in
 * between, stamped before `to` (an append stamps its time before it waits for the lock) and so
 * logged after the closing entry, was left out of the bundle although it lies in the window and
 * before the checkpoint, and the bundle verified. Nothing in the bundle can show it is missing;
 * only the export can keep it. The stretch is now found under the lock the checkpoint is appended
 * under, so the log cannot change in between.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../origin/src/audit/append.ts";
import { agentBody, forwardedEvent, postInternal, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { fetchRoot, kakunin } from "./support/run.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Entry {
  kind: string;
  at: string;
  data: { event?: { event_id: string } };
}

describe("an entry committed while an export finds its window is not lost", () => {
  let o: TestOrigin;
  let dir = "";
  let tenantId = "";
  let agent = "";
  let serial = "";
  let rootFile = "";

  const event = async (id: string) => {
    const doc = {
      events: [
        forwardedEvent(
          { agent, tenant: tenantId, serial },
          { event_id: id, timestamp: new Date().toISOString(), type: "transaction", action: "orders.place", outcome: "success" },
        ),
      ],
    };
    expect((await postInternal(o, "/internal/v1/events", doc)).status).toBe(200);
  };
  /** An event.ingested entry committed by another writer with the time it was stamped at. */
  const logEvent = (eventId: string, at: Date) =>
    o.services.db.transaction((tx) =>
      appendAudit(tx, tenantId, [
        {
          kind: "event.ingested",
          actor: { type: "edge", id: "agent-monitor" },
          agentId: agent,
          at,
          data: {
            event: { event_id: eventId, timestamp: at.toISOString(), type: "transaction", action: "orders.place", outcome: "success" },
            score: 0.1,
            band: "low",
            reasons: [],
            serial_number: serial,
            received_at: at.toISOString(),
          },
        },
      ]),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-window-race-"));
    o = await startTestOrigin("pglite");
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    ({ rootFile } = await fetchRoot(o, dir));
    // A first export: whatever the origin sets up on first use is done before the race below.
    expect((await o.request("GET", `/v1/agents/${agent}/evidence`)).status).toBe(200);
  });
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("to: the entry is in the bundle, which verifies, and every entry of the agent logged before `to` is in it", async () => {
    await event("early-1");
    await sleep(30);
    const to = new Date();
    await sleep(30);
    await event("after-to");
    // The race, made deterministic: when the export opens its next transaction (the checkpoint's),
    // another writer commits first an event it stamped before `to`.
    const db = o.services.db as unknown as { transaction: (...a: unknown[]) => Promise<unknown> };
    const original = db.transaction;
    db.transaction = async (...a: unknown[]) => {
      db.transaction = original;
      await logEvent("raced-in-window", new Date(to.getTime() - 10));
      return original.apply(db, a);
    };
    const r = await o.request("GET", `/v1/agents/${agent}/evidence?to=${encodeURIComponent(to.toISOString())}`);
    db.transaction = original;
    expect(r.status).toBe(200);
    const text = await r.text();
    const path = join(dir, "to.json");
    writeFileSync(path, text);
    const bundle = JSON.parse(text) as { data: { entries: (Entry | string)[]; tree_head: { tree_size: number } } };
    const inBundle = bundle.data.entries.filter((e): e is Entry => typeof e !== "string");
    const ids = inBundle.flatMap((e) => (e.kind === "event.ingested" ? [e.data.event!.event_id] : []));
    expect(ids).toContain("raced-in-window");
    // The log's own view: every entry of the agent in the signed tree logged before `to` is in the bundle.
    const all = (
      await o.json<{ data: { entry: Entry & { index: number } }[] }>(
        "GET",
        `/v1/audit/entries?agent_id=${agent}&to=${bundle.data.tree_head.tree_size}&limit=1000`,
      )
    ).body.data;
    const indices = new Set(inBundle.map((e) => (e as Entry & { index: number }).index));
    const before = all.filter((e) => Date.parse(e.entry.at) < to.getTime()).map((e) => e.entry.index);
    expect(before.filter((i) => !indices.has(i))).toEqual([]);
    const v = await kakunin({ KAKUNIN_CONFIG: join(dir, "no-config.json") }, "audit", "verify", path, "--root", rootFile);
    expect(v.stdout).toMatch(/^VERIFIED/m);
    expect(v.code).toBe(0);
  });
});
