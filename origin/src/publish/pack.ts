import { PUBLISH_MAX_BYTES, PUBLISH_MAX_RECORDS, publishWireVersion, type EdgeRecord } from "@kakunin/shared";
import type { Item } from "./publisher.ts";

/** One record of an item, with its JSON size. */
export interface Unit {
  item: Item;
  record: EdgeRecord;
  bytes: number;
}

/** Room left in a batch for the envelope (wire_version, epoch, brackets and commas). */
const BATCH_BYTES = PUBLISH_MAX_BYTES - 64 * 1024;

/**
 * Batches under the edge's limits, in version order within each contract version, the lowest
 * version first. A record bigger than a batch on its own is sent alone (the edge refuses it, and
 * it is dead-lettered alone).
 */
export function packBatches(units: Unit[]): Unit[][] {
  const byVersion = new Map<number, Unit[]>();
  for (const u of units) {
    const version = publishWireVersion([u.record]);
    const list = byVersion.get(version);
    if (list) list.push(u);
    else byVersion.set(version, [u]);
  }
  const batches: Unit[][] = [];
  for (const version of [...byVersion.keys()].sort((a, b) => a - b)) {
    let batch: Unit[] = [];
    let bytes = 0;
    for (const u of byVersion.get(version)!) {
      if (batch.length && (bytes + u.bytes > BATCH_BYTES || batch.length >= PUBLISH_MAX_RECORDS)) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(u);
      bytes += u.bytes + 1;
    }
    if (batch.length) batches.push(batch);
  }
  return batches;
}
