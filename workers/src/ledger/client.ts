import { MAX_SKEW_S } from "@kakunin/shared";
import type { StatusLedger } from "./status-ledger.ts";

/**
 * How Worker code reaches the ledger. It is sharded: every record key (`cert:<serial>`,
 * `agent:<id>`, …) lives in exactly one shard, chosen by a hash of the key, so each subject's
 * versions are still ordered by one object (per-subject ordering is the guarantee that matters:
 * a revocation can never be rolled back), while different subjects are applied and written to KV
 * in parallel by different objects. One more object, named "global" as the single ledger was,
 * coordinates publishes: it refuses replayed nonces and holds the origin's epoch head (see
 * shared/src/publish-epoch.ts), then hands each shard its part of the batch.
 *
 * The shard count is part of the shard names, so changing `KAKUNIN_LEDGER_SHARDS` on a live edge
 * starts from empty shards (never from another layout's stale ones): do it together with a new
 * origin epoch (which re-publishes every subject), or strong reads miss until then.
 */
export const DEFAULT_SHARDS = 16;
export const MAX_SHARDS = 256;

export function shardCount(env: Env): number {
  const n = Number(env.KAKUNIN_LEDGER_SHARDS ?? DEFAULT_SHARDS);
  return Number.isInteger(n) && n >= 1 && n <= MAX_SHARDS ? n : DEFAULT_SHARDS;
}

/** FNV-1a (32-bit) of the key: cheap, stable across isolates and versions, well spread. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

export function shardName(index: number, shards: number): string {
  return `shard-${index}-of-${shards}`;
}

/** The shard that holds `key` (strong reads, the ingest fallback). */
export function ledger(env: Env, key: string): DurableObjectStub<StatusLedger> {
  const n = shardCount(env);
  return env.STATUS_LEDGER.getByName(shardName(shardOf(key, n), n));
}

/** The publish coordinator (nonces, epoch head); also holds a pre-sharding ledger's records until they move. */
export function coordinator(env: Env): DurableObjectStub<StatusLedger> {
  return env.STATUS_LEDGER.getByName("global");
}

/**
 * Objects that keep the nonces of signed reads (GET /v1/agents/:id/risk, GET /v1/admin/metrics),
 * a nonce always in the same one (chosen by its hash), so a replay meets its first use.
 *
 * Not the coordinator: it admits every publish batch, revocations of every tenant included, one at
 * a time, and the origin's risk route, which any agent credential may call for its own agent as
 * often as it likes, made each of those reads a write there (bef5a5b). A signature covers the
 * method and the path, so a read's nonce can never sign a publish: separate stores lose nothing.
 */
const READ_NONCE_STORES = 16;

export function readNonceStore(env: Env, nonce: string): DurableObjectStub<StatusLedger> {
  return env.STATUS_LEDGER.getByName(`read-nonces-${shardOf(nonce, READ_NONCE_STORES)}`);
}

/**
 * Spends a verified signed read's nonce (false: replayed). Kept until its timestamp can no longer
 * pass the skew check, as internal_publish keeps a batch's.
 */
export function claimInternalNonce(env: Env, auth: { nonce: string; timestamp: number }): Promise<boolean> {
  return readNonceStore(env, auth.nonce).claimNonce(auth.nonce, (auth.timestamp + MAX_SKEW_S + 60) * 1000);
}
