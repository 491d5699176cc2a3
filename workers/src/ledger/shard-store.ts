import { isNewer } from "@kakunin/shared";

/** One record as a shard stores it: the key, its (epoch, version), the JSON KV gets, and whether KV has it. */
// A type alias, not an interface: SqlStorage's row types need an implicit index signature.
export type LedgerRow = {
  key: string;
  v: number;
  epoch: number;
  value: string;
  synced: number;
};

/** At most this many KV writes in flight per shard. */
const KV_PARALLEL = 32;

export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, v INTEGER NOT NULL, value TEXT NOT NULL, synced INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX IF NOT EXISTS records_unsynced ON records (v) WHERE synced = 0;
  CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at);
  CREATE TABLE IF NOT EXISTS origin_head (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL, epoch_id TEXT NOT NULL, max_v INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS ledger_stats (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
`;

/**
 * Applies rows whose (epoch, v) is newer than what the shard holds, in one synchronous pass (a
 * Durable Object runs no other event between SQL calls without an await, so the check and the
 * write cannot interleave with another batch). Returns how many applied and which keys were
 * stale (strictly older than held; the same (epoch, v) again is a retry and is not reported).
 */
export function applyRows(sql: SqlStorage, rows: readonly LedgerRow[]): { applied: number; staleKeys: string[] } {
  let applied = 0;
  const staleKeys: string[] = [];
  for (const r of rows) {
    const held = sql.exec<{ v: number; epoch: number }>("SELECT v, epoch FROM records WHERE key = ?", r.key).toArray()[0];
    if (!isNewer(held, r.epoch, r.v)) {
      if (held && (held.epoch > r.epoch || held.v > r.v)) staleKeys.push(r.key);
      continue;
    }
    sql.exec(
      "INSERT INTO records (key, v, epoch, value, synced) VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET v = excluded.v, epoch = excluded.epoch, value = excluded.value, synced = excluded.synced",
      r.key,
      r.v,
      r.epoch,
      r.value,
      r.synced,
    );
    applied++;
  }
  return { applied, staleKeys };
}

/**
 * Copies every unsynced row to KV, up to KV_PARALLEL writes at once. Keys are unique in the
 * selection, so parallel writes never race on one key; the caller runs one sync at a time, so a
 * newer version of a key (which stays unsynced if it arrived while its older value was being
 * written: the UPDATE matches (key, v, epoch) only) is always written after the older one.
 * Failed writes stay unsynced for the next sync; the first failure is rethrown after the others.
 */
export async function syncRows(sql: SqlStorage, kv: KVNamespace): Promise<void> {
  const pending = sql
    .exec<{ key: string; v: number; epoch: number; value: string }>("SELECT key, v, epoch, value FROM records WHERE synced = 0 ORDER BY v")
    .toArray();
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < pending.length) {
      const row = pending[next++]!;
      try {
        await kv.put(row.key, row.value);
        sql.exec("UPDATE records SET synced = 1 WHERE key = ? AND v = ? AND epoch = ?", row.key, row.v, row.epoch);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(KV_PARALLEL, pending.length) }, worker));
  if (failure !== undefined) throw failure;
}
