import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { ok, type CertStatusRecord, type PublishBatch } from "@kakunin/shared";
import { ManualClock } from "../src/clock.ts";
import { certificates } from "../src/db/schema.ts";
import { revokeInTx } from "../src/lifecycle/revoke.ts";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { Refresher } from "../src/publish/refresher.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { agentBody, dbKinds, freshPostgresDatabase, postgresUrl, startTestOrigin, type TestOrigin } from "./harness.ts";
import { EdgeModel } from "./edge-model.ts";

/** The edge's versioned apply, in process: the same decision function the StatusLedger runs. */
function versionedEdge() {
  const model = new EdgeModel();
  const client: EdgeClient = {
    async publish(batch: PublishBatch) {
      return ok(model.apply(batch));
    },
  };
  return { client, model, cert: (serial: string) => model.get(`cert:${serial}`) as CertStatusRecord | undefined };
}

const drainAll = async (p: Publisher) => {
  for (let i = 0; i < 50; i++) {
    const r = await p.drainOnce();
    if ("error" in r) continue;
    if (!r.pending) return;
  }
};

const newAgent = async (o: TestOrigin) => (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
const certify = async (o: TestOrigin, agent: string) =>
  (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;

// Both scenarios need two connections (a transaction held open while another writer runs) or a
// real dump/restore, so they run on PostgreSQL; PGlite serialises every transaction on one connection.
describe.skipIf(!postgresUrl())("record versions on postgres", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("a refresh enqueued while a revocation holds its lock cannot outrank the revocation at the edge", async () => {
    const clock = new ManualClock(new Date("2026-06-01T00:00:00Z"));
    const o = await startTestOrigin("postgres", { clock });
    cleanups.push(() => o.close());
    const edge = versionedEdge();
    const p = new Publisher(o.services, edge.client, keyManagerSigners(o.services), { log: () => {} });
    const cert = await certify(o, await newAgent(o));
    await drainAll(p);
    expect(edge.cert(cert.serial_number)?.status).toBe("active");
    clock.advance(2 * 86_400_000 + 1000); // OCSP past half-life: the refresher will queue this certificate

    const [row] = await o.services.db.select().from(certificates).where(eq(certificates.id, cert.id));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let revokeEnqueued!: () => void;
    const enqueued = new Promise<void>((r) => (revokeEnqueued = r));
    const revocation = o.services.db.transaction(async (tx) => {
      const r = await revokeInTx(tx, {
        tenantId: row!.tenantId, certificateId: row!.id, reason: "key compromise", code: "keyCompromise",
        now: clock.now(), suspendAgent: true, actor: { type: "api_key", id: "test" },
      });
      expect(r.ok).toBe(true);
      revokeEnqueued();
      await gate; // the revocation's transaction stays open, its outbox rows written
    });
    await enqueued;
    const refresh = new Refresher(o.services).runOnce();
    await new Promise((r) => setTimeout(r, 300));
    // Publishes whatever is committed now (re-signing OCSP waits on the revocation's row lock).
    const early = p.drainOnce();
    await new Promise((r) => setTimeout(r, 300));
    release();
    await early;
    await revocation;
    await refresh;
    await drainAll(p);
    expect(edge.cert(cert.serial_number)).toMatchObject({ status: "revoked", revocation_reason: "key compromise" });
  });

  it("after a restore from an earlier dump, a revocation still reaches the edge (new epoch), and the stale answer raised an alert", async () => {
    const clock = new ManualClock(new Date("2026-06-01T00:00:00Z"));
    const env = { KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64") };
    const adminKey = `test-admin-${randomBytes(12).toString("hex")}`;
    const o1 = await startTestOrigin("postgres", { clock, env, adminKey });
    cleanups.push(() => o1.close());
    const edge = versionedEdge();
    const p1 = new Publisher(o1.services, edge.client, keyManagerSigners(o1.services), { log: () => {} });
    const agent = await newAgent(o1);
    const cert = await certify(o1, agent);
    await drainAll(p1);

    const dir = mkdtempSync(join(tmpdir(), "kakunin-dump-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dump = join(dir, "db.dump");
    const url1 = o1.services.config.DATABASE_URL!;
    execFileSync("pg_dump", ["--format=custom", "--file", dump, "--dbname", url1]);

    // Life goes on after the dump: the edge learns versions the dump never saw.
    for (const scopes of [["a.*"], ["b.*"], ["c.*"]]) await o1.json("PATCH", `/v1/agents/${agent}`, { body: { scopes } });
    for (let i = 0; i < 3; i++) await certify(o1, await newAgent(o1));
    await drainAll(p1);
    const heldBefore = edge.cert(cert.serial_number)!;
    expect(heldBefore.scopes).toEqual(["c.*"]);

    const restored = await freshPostgresDatabase();
    cleanups.push(() => restored.drop());
    execFileSync("pg_restore", ["--no-owner", "--dbname", restored.url, dump]);
    const logs: string[] = [];
    const o2 = await startTestOrigin("postgres", { clock, env, adminKey, databaseUrl: restored.url });
    cleanups.push(() => o2.close());
    const p2 = new Publisher(o2.services, edge.client, keyManagerSigners(o2.services), { log: (m) => logs.push(m) });
    const rv = await o2.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "after restore" } });
    expect(rv.status).toBe(200);
    await drainAll(p2);
    expect(edge.cert(cert.serial_number)).toMatchObject({ status: "revoked", revocation_reason: "after restore" });
    expect(logs.some((l) => /ALERT/.test(l) && /stale/.test(l))).toBe(true);
    expect(p2.staleAlerts).toBeGreaterThan(0);
  });
});


describe.each(dbKinds())("origin epochs on %s", (kind) => {
  it("a new, empty database behind an edge that already holds records starts a higher epoch; its records are accepted", async () => {
    const edge = versionedEdge();
    const old = await startTestOrigin(kind);
    const logs: string[] = [];
    try {
      const p1 = new Publisher(old.services, edge.client, keyManagerSigners(old.services), { log: () => {} });
      for (let i = 0; i < 3; i++) await certify(old, await newAgent(old));
      await drainAll(p1);
    } finally {
      await old.close();
    }
    const fresh = await startTestOrigin(kind);
    try {
      const p2 = new Publisher(fresh.services, edge.client, keyManagerSigners(fresh.services), { log: (m) => logs.push(m) });
      const cert = await certify(fresh, await newAgent(fresh));
      await drainAll(p2);
      // Same epoch number, another epoch id: refused, alerted, epoch 2 started, then accepted.
      expect(edge.cert(cert.serial_number)?.status).toBe("active");
      expect(logs.some((l) => /ALERT/.test(l) && /epoch 2 started/.test(l))).toBe(true);
      await fresh.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "new database" } });
      await drainAll(p2);
      expect(edge.cert(cert.serial_number)?.status).toBe("revoked");
    } finally {
      await fresh.close();
    }
  });
});
