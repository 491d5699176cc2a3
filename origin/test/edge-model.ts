import { admitEpoch, isNewer, LEGACY_EPOCH, recordKey, type EdgeHead, type EdgeRecord, type PublishAck, type PublishBatch } from "@kakunin/shared";

/**
 * The StatusLedger's apply rule in process, built from the same shared functions the Worker runs
 * (workers/src/ledger/status-ledger.ts), for origin tests that need an edge which keeps versions.
 */
export class EdgeModel {
  private head: EdgeHead | null = null;
  private readonly held = new Map<string, { epoch: number; v: number; record: EdgeRecord }>();

  apply(batch: PublishBatch): PublishAck {
    const epoch = batch.epoch ?? LEGACY_EPOCH;
    const maxSent = batch.records.reduce((m, r) => Math.max(m, r.v), 0);
    const admitted = admitEpoch(this.head, epoch);
    if (!admitted.admit) {
      return { applied: 0, stale: batch.records.length, stale_keys: batch.records.map(recordKey), head: admitted.head };
    }
    let applied = 0;
    const staleKeys: string[] = [];
    for (const r of batch.records) {
      const key = recordKey(r);
      const held = this.held.get(key);
      if (!isNewer(held, epoch.n, r.v)) {
        if (held && (held.epoch > epoch.n || held.v > r.v)) staleKeys.push(key);
        continue;
      }
      this.held.set(key, { epoch: epoch.n, v: r.v, record: r });
      applied++;
    }
    this.head = { epoch: admitted.head.epoch, max_v: Math.max(admitted.head.max_v, maxSent) };
    return { applied, stale: batch.records.length - applied, stale_keys: staleKeys, head: this.head };
  }

  get(key: string): EdgeRecord | undefined {
    return this.held.get(key)?.record;
  }

  /** Every record held (the latest of each key), e.g. all the CRLs the origin published. */
  all(): EdgeRecord[] {
    return [...this.held.values()].map((h) => h.record);
  }
}
