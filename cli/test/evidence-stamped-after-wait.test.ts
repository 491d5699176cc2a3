/**
 * A renewal and a revocation stamp when the certificate stops being valid (`superseded_at`,
 * `revoked_at`). Both stamped it when the request started: a renewal before generating the
 * successor's key (seconds in a KMS or an HSM), a revocation before waiting for the agent's row
 * lock (held by another decision about the agent, on this origin or another). Meanwhile the old
 * certificate was still valid everywhere: the edge accepted events under it, and those were
 * logged before the renewal or the revocation. The evidence then said the certificate had stopped
 * being valid before events that the log orders before that stop, and an honest bundle failed
 * check e ("every event was received while its certificate was valid") naming events that were
 * accepted while it was. The times are now taken once the operation holds the locks that order
 * it, so the stop is never earlier than anything another writer logged before it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "../../origin/test/raw-sql.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../origin/src/clock.ts";
import { agentBody, forwardedEvent, postgresUrl, postInternal, rowsOf, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyBundle } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

async function failedChecks(o: TestOrigin, agent: string, rootPem: string): Promise<string[]> {
  const bundle = (await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence`)).body.data;
  const report = await verifyBundle(bundle, { rootPem });
  return report.checks.filter((c) => c.status === "fail").map((c) => `${c.id}: ${c.summary} ${JSON.stringify(c.failures).slice(0, 400)}`);
}

async function postEvent(o: TestOrigin, to: { agent: string; tenant: string; serial: string }, id: string, receivedAt: Date): Promise<void> {
  const ev = {
    ...forwardedEvent(to, { event_id: id, timestamp: receivedAt.toISOString(), type: "tool_call", action: "orders.place", outcome: "success" }),
    received_at: receivedAt.toISOString(),
  };
  const r = await postInternal(o, "/internal/v1/events", { events: [ev] });
  expect(r.status).toBe(200);
  expect(((await r.json()) as { data: { stored: number } }).data.stored).toBe(1);
}

describe("a certificate's end of validity is stamped after the waits that order it", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-stamped-after-wait-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a renewal whose key generation takes seconds: events accepted under the old certificate meanwhile are inside its validity", async () => {
    const clock = new ManualClock(new Date());
    const o = await startTestOrigin("pglite", { clock });
    try {
      const { rootPem } = await fetchRoot(o, dir);
      const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const cert = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
      // The successor's key takes 5 s in the HSM; the edge accepts an event under the old serial meanwhile.
      const keys = o.services.keys;
      const createKey = keys.createKey.bind(keys);
      let armed = true;
      keys.createKey = async (label, opts) => {
        if (armed) {
          armed = false;
          clock.advance(5_000);
          await postEvent(o, { agent, tenant, serial: cert.serial_number }, "during-keygen", clock.now());
          clock.advance(1_000);
        }
        return createKey(label, opts);
      };
      try {
        const renewed = await o.json<{ data: { predecessor: { superseded_at: string } } }>("POST", `/v1/agents/${agent}/certificates/renew`, {
          body: { overlap_seconds: 0 },
        });
        expect(renewed.status).toBe(201);
        expect(armed).toBe(false);
      } finally {
        keys.createKey = createKey;
      }
      expect(await failedChecks(o, agent, rootPem)).toEqual([]);
    } finally {
      await o.close();
    }
  }, 120_000);

  it("a second renewal that cuts the first overlap short after a slow key generation: events under the predecessor meanwhile are inside its validity", async () => {
    const clock = new ManualClock(new Date());
    const o = await startTestOrigin("pglite", { clock });
    try {
      const { rootPem } = await fetchRoot(o, dir);
      const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const first = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
      expect((await o.json("POST", `/v1/agents/${agent}/certificates/renew`, { body: { overlap_seconds: 3600 } })).status).toBe(201);
      clock.advance(1_000);
      const keys = o.services.keys;
      const createKey = keys.createKey.bind(keys);
      let armed = true;
      keys.createKey = async (label, opts) => {
        if (armed) {
          armed = false;
          clock.advance(5_000);
          await postEvent(o, { agent, tenant, serial: first.serial_number }, "predecessor-during-keygen", clock.now());
          clock.advance(1_000);
        }
        return createKey(label, opts);
      };
      try {
        expect((await o.json("POST", `/v1/agents/${agent}/certificates/renew`, { body: { overlap_seconds: 3600 } })).status).toBe(201);
        expect(armed).toBe(false);
      } finally {
        keys.createKey = createKey;
      }
      expect(await failedChecks(o, agent, rootPem)).toEqual([]);
    } finally {
      await o.close();
    }
  }, 120_000);

  it.skipIf(!postgresUrl())(
    "a revocation waiting for the agent's lock: an event accepted meanwhile is inside the certificate's validity (PostgreSQL)",
    async () => {
      const clock = new ManualClock(new Date());
      const o = await startTestOrigin("postgres", { clock });
      let release = () => {};
      try {
        const { rootPem } = await fetchRoot(o, dir);
        const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
        const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
        const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
        // Another decision about the agent holds its row (a renewal committing, a PATCH, a review), on another connection.
        let locked = () => {};
        const isLocked = new Promise<void>((r) => (locked = r));
        const holder = o.services.db.transaction(async (tx) => {
          await tx.execute(sql`select id from agents where id = ${agent} for update`);
          locked();
          await new Promise<void>((r) => (release = r));
        });
        await isLocked;
        const revoking = o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "key compromise" } });
        for (let i = 0; ; i++) {
          const r = rowsOf<{ n: number }>(
            await o.services.db.execute(sql`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and wait_event in ('transactionid', 'tuple')`),
          );
          if (r[0]!.n >= 1) break;
          if (i > 600) throw new Error("the revocation never waited for the agent's lock");
          await new Promise((r) => setTimeout(r, 50));
        }
        // The edge accepts an event under the certificate meanwhile (its insert waits for the agent's row too).
        clock.advance(5_000);
        const posting = postEvent(o, { agent, tenant, serial: cert.serial_number }, "while-revocation-waits", clock.now());
        clock.advance(1_000);
        release();
        await holder;
        expect((await revoking).status).toBe(200);
        await posting;
        expect(await failedChecks(o, agent, rootPem)).toEqual([]);
      } finally {
        release();
        await o.close();
      }
    },
    120_000,
  );
});
