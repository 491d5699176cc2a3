import { DurableObject } from "cloudflare:workers";
import { admitEpoch, LEGACY_EPOCH, recordKey, type EdgeHead, type EdgeRecord, type OriginEpoch, type PublishAck } from "@kakunin/shared";
import { coordinator, shardCount, shardName, shardOf } from "./client.ts";
import { applyRows, SCHEMA, syncRows, type LedgerRow } from "./shard-store.ts";

/** What GET /v1/admin/metrics reads from the coordinator (the same shape the single ledger had). */
export interface LedgerStats {
  head: EdgeHead | null;
  /** Epoch ms of the last batch the coordinator admitted (null before the first). */
  last_batch_at: number | null;
  batches_applied: number;
  /** Records applied in any shard whose KV copy has not been written yet (retried by that shard's next sync). */
  kv_unsynced: number;
}

/** Rows moved per step when a pre-sharding ledger hands its records to the shards. */
const MIGRATE_CHUNK = 500;

/**
 * The edge's ordering point for what the origin publishes, in three roles of one class
 * (see client.ts for the layout):
 * - the coordinator ("global") remembers request nonces until their timestamp window closes,
 *   refusing replays, admits or refuses a batch's origin epoch as a whole, keeps the head the
 *   origin reads back, and hands each shard its records — batches one at a time, shards in
 *   parallel;
 * - a read-nonce store (client.ts readNonceStore) only spends the nonces of signed reads, apart
 *   from the coordinator every publish waits on;
 * - a shard applies a record only when its (epoch, version) is newer than the one held, so
 *   retries and reordering can never roll a revocation back, keeps the authoritative copy in
 *   SQLite (which `?consistency=strong` reads) and copies applied records to KV (the fast,
 *   eventually consistent read path), several writes at a time but one sync at a time.
 * A record is marked synced only after its KV write succeeded; unsynced rows are retried by the
 * shard's next sync, so a KV hiccup never loses an update.
 */
export class StatusLedger extends DurableObject<Env> {
  private queue: Promise<unknown> = Promise.resolve();
  private syncing: Promise<unknown> = Promise.resolve();
  /** Shard only: the coordinator said it holds no pre-sharding records any more. */
  private legacyDone = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
    // Ledgers created before epochs: their records belong to the legacy epoch 0.
    const cols = ctx.storage.sql.exec<{ name: string }>("PRAGMA table_info(records)").toArray();
    if (!cols.some((c) => c.name === "epoch")) ctx.storage.sql.exec("ALTER TABLE records ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0");
  }

  /** Coordinator: the epoch the edge holds and the highest version sent in it (null before the first batch). */
  head(): EdgeHead | null {
    const row = this.ctx.storage.sql.exec<{ n: number; epoch_id: string; max_v: number }>("SELECT n, epoch_id, max_v FROM origin_head WHERE id = 1").toArray()[0];
    return row ? { epoch: { n: row.n, id: row.epoch_id }, max_v: row.max_v } : null;
  }

  /** Coordinator: the head, when the last batch was admitted, and the KV backlog summed over every shard. */
  async stats(): Promise<LedgerStats> {
    const sql = this.ctx.storage.sql;
    const stat = (k: string) => sql.exec<{ v: number }>("SELECT v FROM ledger_stats WHERE k = ?", k).toArray()[0]?.v ?? null;
    const n = shardCount(this.env);
    const backlog = await Promise.all(Array.from({ length: n }, (_, i) => this.env.STATUS_LEDGER.getByName(shardName(i, n)).unsyncedCount()));
    return { head: this.head(), last_batch_at: stat("last_batch_at"), batches_applied: stat("batches_applied") ?? 0, kv_unsynced: backlog.reduce((a, b) => a + b, 0) };
  }

  /** Shard: records whose KV copy is still pending (an indexed count). */
  unsyncedCount(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM records WHERE synced = 0").toArray()[0]!.n;
  }

  /** Coordinator: applies a signed batch. `nonceExpiresAt` is epoch ms after which the nonce can be forgotten. */
  apply(nonce: string, nonceExpiresAt: number, records: EdgeRecord[], epoch: OriginEpoch = LEGACY_EPOCH): Promise<PublishAck | { replayed: true }> {
    // Serialised: batches reach the shards in the order they were admitted.
    const run = this.queue.then(() => this.applyNow(nonce, nonceExpiresAt, records, epoch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Shard: the authoritative copy of one record (strong reads), or null. */
  async get(key: string): Promise<string | null> {
    const rows = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM records WHERE key = ?", key).toArray();
    if (rows[0]) return rows[0].value;
    if (this.legacyDone) return null;
    // Not here: it may still be in a pre-sharding ledger whose records have not moved yet.
    const legacy = await coordinator(this.env).legacyGet(key);
    if (legacy.done) this.legacyDone = true;
    return legacy.value;
  }

  /** Shard: applies rows (already admitted by the coordinator) and copies them to KV before answering. */
  async applyRows(rows: LedgerRow[]): Promise<{ applied: number; staleKeys: string[] }> {
    const result = applyRows(this.ctx.storage.sql, rows);
    const sync = this.syncing.then(() => syncRows(this.ctx.storage.sql, this.env.CERT_STATUS));
    this.syncing = sync.catch(() => undefined);
    await sync;
    return result;
  }

  /**
   * Read-nonce store (client.ts readNonceStore): records a signed read's nonce until `expiresAt`
   * (epoch ms); false when it was seen before (a replay). The sweep reads the expiry index
   * (SCHEMA): a full scan per call cost each read the whole window's nonces.
   */
  claimNonce(nonce: string, expiresAt: number): boolean {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM nonces WHERE expires_at < ?", Date.now());
    if (sql.exec("SELECT 1 FROM nonces WHERE nonce = ?", nonce).toArray().length > 0) return false;
    sql.exec("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", nonce, expiresAt);
    return true;
  }

  /** Shard: the (epoch, version) held for each of `keys` that it holds (a read; see ledger/would-apply.ts). */
  heldVersions(keys: string[]): Record<string, { v: number; epoch: number }> {
    const out: Record<string, { v: number; epoch: number }> = {};
    for (const key of keys) {
      const row = this.ctx.storage.sql.exec<{ v: number; epoch: number }>("SELECT v, epoch FROM records WHERE key = ?", key).toArray()[0];
      if (row) out[key] = { v: row.v, epoch: row.epoch };
    }
    return out;
  }

  /** Coordinator: a record of the pre-sharding single ledger that has not moved to its shard yet. */
  legacyGet(key: string): { value: string | null; done: boolean } {
    const sql = this.ctx.storage.sql;
    const row = sql.exec<{ value: string }>("SELECT value FROM records WHERE key = ?", key).toArray()[0];
    return { value: row?.value ?? null, done: !row && sql.exec("SELECT 1 FROM records LIMIT 1").toArray().length === 0 };
  }

  private async applyNow(nonce: string, nonceExpiresAt: number, records: EdgeRecord[], epoch: OriginEpoch): Promise<PublishAck | { replayed: true }> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM nonces WHERE expires_at < ?", Date.now());
    if (sql.exec("SELECT 1 FROM nonces WHERE nonce = ?", nonce).toArray().length > 0) return { replayed: true };
    sql.exec("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", nonce, nonceExpiresAt);
    const admitted = admitEpoch(this.head(), epoch);
    // An older or conflicting epoch is refused whole; the head in the answer tells the origin why.
    if (!admitted.admit) return { applied: 0, stale: records.length, stale_keys: records.map(recordKey), head: admitted.head };
    const head: EdgeHead = { epoch: admitted.head.epoch, max_v: Math.max(admitted.head.max_v, ...records.map((r) => r.v)) };
    sql.exec(
      "INSERT INTO origin_head (id, n, epoch_id, max_v) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET n = excluded.n, epoch_id = excluded.epoch_id, max_v = excluded.max_v",
      head.epoch.n, head.epoch.id, head.max_v,
    );
    sql.exec("INSERT INTO ledger_stats (k, v) VALUES ('last_batch_at', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", Date.now());
    sql.exec("INSERT INTO ledger_stats (k, v) VALUES ('batches_applied', 1) ON CONFLICT(k) DO UPDATE SET v = v + 1");
    // Older records first, so nothing of this batch can be overtaken by what the old ledger held.
    await this.migrateLegacy();
    const { applied, staleKeys } = await this.toShards(records.map((r) => ({ key: recordKey(r), v: r.v, epoch: epoch.n, value: JSON.stringify(r), synced: 0 })));
    return { applied, stale: records.length - applied, stale_keys: staleKeys, head };
  }

  /** Splits rows by shard and applies every part at once; each shard orders its own keys. */
  private async toShards(rows: LedgerRow[]): Promise<{ applied: number; staleKeys: string[] }> {
    const n = shardCount(this.env);
    const parts = new Map<number, LedgerRow[]>();
    for (const r of rows) {
      const i = shardOf(r.key, n);
      parts.set(i, [...(parts.get(i) ?? []), r]);
    }
    const results = await Promise.all([...parts].map(([i, part]) => this.env.STATUS_LEDGER.getByName(shardName(i, n)).applyRows(part)));
    return { applied: results.reduce((a, r) => a + r.applied, 0), staleKeys: results.flatMap((r) => r.staleKeys) };
  }

  /**
   * A ledger from before sharding kept every record here: move them to their shards (keeping
   * each row's epoch, version and synced flag, so KV is not rewritten), a chunk at a time, and
   * delete each chunk once its shards acknowledged it.
   */
  private async migrateLegacy(): Promise<void> {
    const sql = this.ctx.storage.sql;
    for (;;) {
      const rows = sql.exec<LedgerRow>("SELECT key, v, epoch, value, synced FROM records ORDER BY v LIMIT ?", MIGRATE_CHUNK).toArray();
      if (rows.length === 0) return;
      await this.toShards(rows.map((r) => ({ ...r })));
      for (const r of rows) sql.exec("DELETE FROM records WHERE key = ? AND v = ?", r.key, r.v);
    }
  }
}
