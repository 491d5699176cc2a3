import { DurableObject } from "cloudflare:workers";
import { admitEpoch, isNewer, LEGACY_EPOCH, recordKey, type EdgeHead, type EdgeRecord, type OriginEpoch, type PublishAck } from "@kakunin/shared";

export interface LedgerStats {
  head: EdgeHead | null;
  /** Epoch ms of the last batch the ledger admitted (null before the first). */
  last_batch_at: number | null;
  batches_applied: number;
  /** Records applied here whose KV copy has not been written yet (retried by the next batch). */
  kv_unsynced: number;
}

/**
 * The edge's ordering point for what the origin publishes (one instance, "global"):
 * - applies a record only when its (epoch, version) is newer than the one held, so retries and
 *   reordering can never roll a revocation back; a higher origin epoch (a restored or new origin
 *   database, see shared/src/publish-epoch.ts) is accepted over anything held, and the origin
 *   re-publishes every subject in it;
 * - remembers request nonces until their timestamp window closes, refusing replays;
 * - copies every applied record to KV (the fast, eventually consistent read path) and keeps the
 *   authoritative copy in SQLite, which `?consistency=strong` reads.
 * A record is marked synced only after its KV write succeeded; unsynced rows are retried by the
 * next call, so a KV hiccup never loses an update.
 */
export class StatusLedger extends DurableObject<Env> {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, v INTEGER NOT NULL, value TEXT NOT NULL, synced INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX IF NOT EXISTS records_unsynced ON records (v) WHERE synced = 0;
      CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS origin_head (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL, epoch_id TEXT NOT NULL, max_v INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS ledger_stats (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
    `);
    // Ledgers created before epochs: their records belong to the legacy epoch 0.
    const cols = ctx.storage.sql.exec<{ name: string }>("PRAGMA table_info(records)").toArray();
    if (!cols.some((c) => c.name === "epoch")) ctx.storage.sql.exec("ALTER TABLE records ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0");
  }

  /** The epoch the ledger holds and the highest version sent in it (null before the first batch). */
  head(): EdgeHead | null {
    const row = this.ctx.storage.sql.exec<{ n: number; epoch_id: string; max_v: number }>("SELECT n, epoch_id, max_v FROM origin_head WHERE id = 1").toArray()[0];
    return row ? { epoch: { n: row.n, id: row.epoch_id }, max_v: row.max_v } : null;
  }

  /**
   * For GET /v1/admin/metrics: the head, when the last batch was applied and how many records
   * still wait for their KV copy (the read path's lag). Indexed reads only; no table scan.
   */
  stats(): LedgerStats {
    const sql = this.ctx.storage.sql;
    const stat = (k: string) => sql.exec<{ v: number }>("SELECT v FROM ledger_stats WHERE k = ?", k).toArray()[0]?.v ?? null;
    return {
      head: this.head(),
      last_batch_at: stat("last_batch_at"),
      batches_applied: stat("batches_applied") ?? 0,
      kv_unsynced: sql.exec<{ n: number }>("SELECT count(*) AS n FROM records WHERE synced = 0").toArray()[0]!.n,
    };
  }

  /** Applies a signed batch. `nonceExpiresAt` is epoch ms after which the nonce can be forgotten. */
  apply(nonce: string, nonceExpiresAt: number, records: EdgeRecord[], epoch: OriginEpoch = LEGACY_EPOCH): Promise<PublishAck | { replayed: true }> {
    // Serialised: KV writes of two batches must not interleave, or an older value could land last.
    const run = this.queue.then(() => this.applyNow(nonce, nonceExpiresAt, records, epoch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The authoritative copy of one record (strong reads), or null. */
  get(key: string): string | null {
    const rows = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM records WHERE key = ?", key).toArray();
    return rows[0]?.value ?? null;
  }

  private async applyNow(nonce: string, nonceExpiresAt: number, records: EdgeRecord[], epoch: OriginEpoch): Promise<PublishAck | { replayed: true }> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM nonces WHERE expires_at < ?", Date.now());
    if (sql.exec("SELECT 1 FROM nonces WHERE nonce = ?", nonce).toArray().length > 0) return { replayed: true };
    sql.exec("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", nonce, nonceExpiresAt);
    const admitted = admitEpoch(this.head(), epoch);
    // An older or conflicting epoch is refused whole; the head in the answer tells the origin why.
    if (!admitted.admit) return { applied: 0, stale: records.length, stale_keys: records.map(recordKey), head: admitted.head };
    let applied = 0;
    const staleKeys: string[] = [];
    for (const r of records) {
      const key = recordKey(r);
      const held = sql.exec<{ v: number; epoch: number }>("SELECT v, epoch FROM records WHERE key = ?", key).toArray()[0];
      if (!isNewer(held, epoch.n, r.v)) {
        // The same (epoch, version) again is a retry of something applied; only newer ones are reported.
        if (held && (held.epoch > epoch.n || held.v > r.v)) staleKeys.push(key);
        continue;
      }
      sql.exec(
        "INSERT INTO records (key, v, epoch, value, synced) VALUES (?, ?, ?, ?, 0) ON CONFLICT(key) DO UPDATE SET v = excluded.v, epoch = excluded.epoch, value = excluded.value, synced = 0",
        key, r.v, epoch.n, JSON.stringify(r),
      );
      applied++;
    }
    const head: EdgeHead = { epoch: admitted.head.epoch, max_v: Math.max(admitted.head.max_v, ...records.map((r) => r.v)) };
    sql.exec(
      "INSERT INTO origin_head (id, n, epoch_id, max_v) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET n = excluded.n, epoch_id = excluded.epoch_id, max_v = excluded.max_v",
      head.epoch.n, head.epoch.id, head.max_v,
    );
    sql.exec("INSERT INTO ledger_stats (k, v) VALUES ('last_batch_at', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", Date.now());
    sql.exec("INSERT INTO ledger_stats (k, v) VALUES ('batches_applied', 1) ON CONFLICT(k) DO UPDATE SET v = v + 1");
    await this.syncToKv();
    return { applied, stale: records.length - applied, stale_keys: staleKeys, head };
  }

  private async syncToKv(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const pending = sql.exec<{ key: string; v: number; value: string }>("SELECT key, v, value FROM records WHERE synced = 0 ORDER BY v").toArray();
    for (const row of pending) {
      await this.env.CERT_STATUS.put(row.key, row.value);
      sql.exec("UPDATE records SET synced = 1 WHERE key = ? AND v = ?", row.key, row.v);
    }
  }
}
