import { admitEpoch, recordKey, type EdgeRecord, type OriginEpoch } from "@kakunin/shared";
import { coordinator, shardCount, shardName, shardOf } from "./client.ts";

/**
 * Which of `records` the ledger will not refuse as stale when the batch is applied: its epoch is
 * admitted, and no record is older than the (epoch, version) its shard holds. The same (epoch,
 * version) again counts (a retry: the origin sends a batch again after a monitor failed).
 *
 * A read ahead of the apply, for what must happen before it (adopting a renewal's serials: a new
 * serial must not be readable without its risk). It never leaves out a record the apply then
 * takes: the head and held versions only move forward. A concurrent batch applied in between can
 * still make a record it kept stale; that costs one extra adopted serial, as before this check.
 * A record still in a pre-sharding ledger (migrated by the next batch) counts as not held.
 */
export async function wouldApply<R extends EdgeRecord>(env: Env, records: readonly R[], epoch: OriginEpoch): Promise<Set<R>> {
  if (records.length === 0) return new Set();
  if (!admitEpoch(await coordinator(env).head(), epoch).admit) return new Set();
  const n = shardCount(env);
  const byShard = new Map<number, string[]>();
  for (const r of records) {
    const key = recordKey(r);
    const i = shardOf(key, n);
    byShard.set(i, [...(byShard.get(i) ?? []), key]);
  }
  const parts = await Promise.all([...byShard].map(([i, keys]) => env.STATUS_LEDGER.getByName(shardName(i, n)).heldVersions(keys)));
  const held = Object.assign({}, ...parts) as Record<string, { v: number; epoch: number }>;
  return new Set(
    records.filter((r) => {
      const h = held[recordKey(r)];
      return !h || epoch.n > h.epoch || (epoch.n === h.epoch && r.v >= h.v);
    }),
  );
}
