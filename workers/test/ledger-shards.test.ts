import { reset, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { recordKey, type CertStatusRecord } from "@kakunin/shared";
import { DEFAULT_SHARDS, shardName, shardOf } from "../src/ledger/client.ts";
import type { StatusLedger } from "../src/ledger/status-ledger.ts";
import { agentRec, certRec, env, nextV, publish, verify } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

const shardStub = (key: string) => env.STATUS_LEDGER.getByName(shardName(shardOf(key, DEFAULT_SHARDS), DEFAULT_SHARDS));
/** The keys a ledger object holds in its own SQLite (no fallback). */
const heldKeys = (name: string) =>
  runInDurableObject(env.STATUS_LEDGER.getByName(name), async (_l: StatusLedger, state) =>
    state.storage.sql
      .exec<{ key: string }>("SELECT key FROM records")
      .toArray()
      .map((r) => r.key),
  );
const revoke = (r: CertStatusRecord, v: number): CertStatusRecord => ({
  ...r,
  v,
  status: "revoked",
  revoked_at: new Date().toISOString(),
  revocation_reason: "shard test",
});
const status = async (serial: string, q = "") => (await (await verify(serial, q)).json<{ data: { status: string } }>()).data.status;

describe("sharded status ledger", () => {
  it("every record lives in exactly the shard its key hashes to; a batch spreads over shards; the coordinator holds none", async () => {
    const recs = [...Array.from({ length: 48 }, () => certRec()), ...Array.from({ length: 16 }, () => agentRec())];
    const ack = await (await publish(recs)).json<{ data: { applied: number; stale: number } }>();
    expect(ack.data).toMatchObject({ applied: 64, stale: 0 });
    const byShard = new Map<number, string[]>();
    for (let i = 0; i < DEFAULT_SHARDS; i++) byShard.set(i, await heldKeys(shardName(i, DEFAULT_SHARDS)));
    for (const r of recs) {
      const key = recordKey(r);
      const owners = [...byShard].filter(([, keys]) => keys.includes(key)).map(([i]) => i);
      expect(owners, key).toEqual([shardOf(key, DEFAULT_SHARDS)]);
      expect(await env.CERT_STATUS.get(key), key).toBe(JSON.stringify(r));
    }
    expect([...byShard.values()].filter((k) => k.length > 0).length).toBeGreaterThan(8);
    expect(await heldKeys("global")).toEqual([]);
    // What the operator metrics read: the coordinator's head and the backlog over all shards.
    const stats = await env.STATUS_LEDGER.getByName("global").stats();
    expect(stats).toMatchObject({ batches_applied: 1, kv_unsynced: 0, head: { epoch: { n: 0 } } });
    expect(stats.last_batch_at).toBeGreaterThan(Date.now() - 60_000);
  });

  it("per-subject order holds under concurrent, reordered batches: the highest version wins in the shard and in KV", async () => {
    const subjects = Array.from({ length: 12 }, () => certRec());
    await publish(subjects);
    // Each subject gets versions v+1..v+6 (the last one a revocation), sent as 6 concurrent batches in reverse order.
    const base = nextV();
    const versions = [1, 2, 3, 4, 5, 6].map((k) =>
      subjects.map((s) => (k === 6 ? revoke(s, base + k) : { ...s, v: base + k, agent_status: "active" as const })),
    );
    const acks = await Promise.all(versions.reverse().map((batch) => publish(batch)));
    expect(acks.every((r) => r.status === 200)).toBe(true);
    for (const s of subjects) {
      const key = recordKey(s);
      const held = JSON.parse((await shardStub(key).get(key))!) as CertStatusRecord;
      expect(held.v, key).toBe(base + 6);
      expect((JSON.parse((await env.CERT_STATUS.get(key))!) as CertStatusRecord).v, key).toBe(base + 6);
      expect(await status(s.serial_number, "?consistency=strong")).toBe("revoked");
    }
    // A late retry of an older version is refused as stale by the owning shard and named.
    const late = { ...subjects[0]!, v: base + 2 };
    expect(await (await publish([late])).json()).toMatchObject({ data: { applied: 0, stale: 1, stale_keys: [recordKey(late)] } });
  });

  it("?consistency=strong reads the owning shard: it sees a revocation that KV does not show yet", async () => {
    const rec = certRec();
    await publish([rec]);
    await publish([revoke(rec, nextV())]);
    // KV lags (another location, or the write has not propagated): put the old value back.
    await env.CERT_STATUS.put(recordKey(rec), JSON.stringify(rec));
    expect(await status(rec.serial_number, "?consistency=strong")).toBe("revoked");
  });

  it("a ledger from before sharding: its records are read through until the next publish moves them to their shards", async () => {
    const legacy = revoke(certRec(), 700);
    const key = recordKey(legacy);
    await runInDurableObject(env.STATUS_LEDGER.getByName("global"), async (_l: StatusLedger, state) => {
      state.storage.sql.exec("INSERT INTO records (key, v, epoch, value, synced) VALUES (?, ?, 0, ?, 1)", key, legacy.v, JSON.stringify(legacy));
    });
    expect(await status(legacy.serial_number, "?consistency=strong")).toBe("revoked");
    // The next publish moves it first; then an older version of it is stale, not a rollback.
    await publish([certRec()]);
    expect(await heldKeys("global")).toEqual([]);
    expect(await heldKeys(shardName(shardOf(key, DEFAULT_SHARDS), DEFAULT_SHARDS))).toContain(key);
    expect(await (await publish([{ ...legacy, v: 600, status: "active", revoked_at: null, revocation_reason: null }])).json()).toMatchObject({
      data: { applied: 0, stale: 1 },
    });
    expect(await status(legacy.serial_number, "?consistency=strong")).toBe("revoked");
  });
});
