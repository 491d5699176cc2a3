/**
 * LRU of token-object handles by (class, CKA_ID).
 *
 * Why: C_FindObjects is a linear scan on SoftHSM (~30 µs per object, and synchronous on the event
 * loop). Measured: with 400 keys on the token, find-per-sign capped signing at ~65/s versus ~2000/s
 * with 2 keys. Token-object handles stay valid across our sessions until C_Finalize, so one cache
 * lives exactly as long as one opened token. Entries are re-checked against CKA_ID on use, because
 * some HSMs reuse the handle of a deleted object.
 */
export class KeyHandleCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly max: number;

  constructor(max = 10_000) {
    this.max = max;
  }

  get(key: string): Buffer | undefined {
    const handle = this.entries.get(key);
    if (handle !== undefined) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, handle);
    }
    return handle;
  }

  set(key: string, handle: Buffer): void {
    this.entries.delete(key);
    this.entries.set(key, handle);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
