/**
 * Remembers the last time the database's storage refused a write (isStorageFault), for /readyz.
 * A read-only or full disk shows up first as a failed request, and a probe of the directory is not
 * the whole story: PGlite does not recover from a failed file write even after the filesystem takes
 * writes again (its next creates fail with 58P02 "File exists"), so on the embedded database a
 * fault is kept until the process restarts. PostgreSQL recovers on its own: there a fault counts
 * for `windowMs`, then readiness goes back to the live checks.
 */
export class StorageFaults {
  private last?: { at: number; detail: string };

  constructor(private readonly o: { sticky: boolean; windowMs: number; now: () => number }) {}

  record(detail: string): void {
    this.last = { at: this.o.now(), detail: detail.slice(0, 200) };
  }

  /** Why the database is not ready, or undefined when no fault counts any more. */
  current(): string | undefined {
    if (!this.last) return undefined;
    if (!this.o.sticky && this.o.now() - this.last.at > this.o.windowMs) return undefined;
    const ago = Math.round((this.o.now() - this.last.at) / 1000);
    const tail = this.o.sticky ? "; the embedded database needs a restart once its directory takes writes" : "";
    return `a write failed on storage ${ago} s ago (${this.last.detail})${tail}`;
  }
}
