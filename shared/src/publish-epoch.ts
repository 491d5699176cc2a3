/**
 * Ordering of published status records across database restores and new databases.
 *
 * A record's version `v` is drawn from the origin database's outbox sequence under the subject's
 * lock, so within one database lineage versions of a subject increase in commit order. A restore
 * from a dump winds that sequence back, and a new database starts it again: versions are therefore
 * only comparable within an *epoch*. The origin stores its epoch (`n`, a random `id`) in the
 * database and sends it with every batch; the edge holds the epoch it last accepted and the
 * highest version it was sent in it (`max_v`).
 *
 * The edge admits a batch of a higher epoch (and from then on prefers that epoch's records over
 * any older one's, whatever their `v`) or of its own epoch; anything else is refused as stale. The
 * origin reads the head back from every acknowledgement: an edge ahead of it (a higher or
 * conflicting epoch, or `max_v` above the database's sequence) means the database went back in
 * time, so the origin starts epoch `head.n + 1` and re-publishes every subject.
 */
export interface OriginEpoch {
  n: number;
  id: string;
}

export interface EdgeHead {
  epoch: OriginEpoch;
  /** Highest version sent in this epoch (stale ones included: every one came from the sequence). */
  max_v: number;
}

/** What a batch that carries no epoch (an origin older than epochs) counts as. */
export const LEGACY_EPOCH: OriginEpoch = { n: 0, id: "" };

export function sameEpoch(a: OriginEpoch, b: OriginEpoch): boolean {
  return a.n === b.n && a.id === b.id;
}

/**
 * Whether the edge applies a batch of epoch `batch`, and the head it keeps afterwards (before the
 * batch's versions are folded into `max_v`).
 */
export function admitEpoch(head: EdgeHead | null, batch: OriginEpoch): { admit: true; head: EdgeHead; newEpoch: boolean } | { admit: false; head: EdgeHead } {
  if (!head) return { admit: true, head: { epoch: batch, max_v: 0 }, newEpoch: true };
  if (batch.n > head.epoch.n) return { admit: true, head: { epoch: batch, max_v: 0 }, newEpoch: true };
  if (sameEpoch(batch, head.epoch)) return { admit: true, head, newEpoch: false };
  return { admit: false, head };
}

/** A record at (epoch n, v) replaces what the edge holds when it is strictly newer. */
export function isNewer(held: { epoch: number; v: number } | undefined, epochN: number, v: number): boolean {
  return !held || epochN > held.epoch || (epochN === held.epoch && v > held.v);
}

/**
 * The origin's reading of an acknowledgement: `behind` when the edge holds versions this database
 * never drew (restore) or an epoch it did not start (another database) — the batch must not be
 * marked delivered, and a new epoch must begin above `head.epoch.n`.
 */
export function originBehind(head: EdgeHead, ours: OriginEpoch, sequenceHighWater: number): boolean {
  if (!sameEpoch(head.epoch, ours)) return head.epoch.n >= ours.n;
  return head.max_v > sequenceHighWater;
}
