import { DurableObject } from "cloudflare:workers";
import { recordKey, type EdgeRecord, type PublishAck } from "@kakunin/shared";

/**
 * The edge's ordering point for what the origin publishes (one instance, "global"):
 * - applies a record only when its version is newer than the one held, so retries and reordering
 *   can never roll a revocation back;
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
    `);
  }

  /** Applies a signed batch. `nonceExpiresAt` is epoch ms after which the nonce can be forgotten. */
  apply(nonce: string, nonceExpiresAt: number, records: EdgeRecord[]): Promise<PublishAck | { replayed: true }> {
    // Serialised: KV writes of two batches must not interleave, or an older value could land last.
    const run = this.queue.then(() => this.applyNow(nonce, nonceExpiresAt, records));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The authoritative copy of one record (strong reads), or null. */
  get(key: string): string | null {
    const rows = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM records WHERE key = ?", key).toArray();
    return rows[0]?.value ?? null;
  }

  private async applyNow(nonce: string, nonceExpiresAt: number, records: EdgeRecord[]): Promise<PublishAck | { replayed: true }> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM nonces WHERE expires_at < ?", Date.now());
    if (sql.exec("SELECT 1 FROM nonces WHERE nonce = ?", nonce).toArray().length > 0) return { replayed: true };
    sql.exec("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", nonce, nonceExpiresAt);
    let applied = 0;
    let stale = 0;
    for (const r of records) {
      const key = recordKey(r);
      const held = sql.exec<{ v: number }>("SELECT v FROM records WHERE key = ?", key).toArray()[0];
      if (held && held.v >= r.v) {
        stale++;
        continue;
      }
      sql.exec(
        "INSERT INTO records (key, v, value, synced) VALUES (?, ?, ?, 0) ON CONFLICT(key) DO UPDATE SET v = excluded.v, value = excluded.value, synced = 0",
        key, r.v, JSON.stringify(r),
      );
      applied++;
    }
    await this.syncToKv();
    return { applied, stale };
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
