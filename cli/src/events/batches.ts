/** Splitting events into request bodies the edge accepts: ≤ 1000 events and ≤ 1 MiB each. */
import { MAX_EVENTS_PER_BATCH } from "@kakunin/shared";

export const MAX_BODY_BYTES = 1024 * 1024;
/** `{"events":[` and `]}` around the comma-joined events. */
export const WRAPPER_BYTES = Buffer.byteLength('{"events":[]}');
export { MAX_EVENTS_PER_BATCH };

export interface Sized {
  bytes: number;
}

/**
 * Consecutive batches in file order, each at most `maxEvents` events and `maxBytes` of body. An
 * item too large for any body gets a batch of its own (the caller refuses those beforehand).
 */
export function toBatches<T extends Sized>(items: readonly T[], maxEvents: number, maxBytes = MAX_BODY_BYTES): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let size = WRAPPER_BYTES;
  for (const item of items) {
    // A comma separates this item from the previous one in the same batch.
    const cost = item.bytes + (current.length ? 1 : 0);
    if (current.length && (current.length >= maxEvents || size + cost > maxBytes)) {
      batches.push(current);
      current = [];
      size = WRAPPER_BYTES;
    }
    size += item.bytes + (current.length ? 1 : 0);
    current.push(item);
  }
  if (current.length) batches.push(current);
  return batches;
}

export function batchBody(batch: readonly { json: string }[]): string {
  return `{"events":[${batch.map((e) => e.json).join(",")}]}`;
}
