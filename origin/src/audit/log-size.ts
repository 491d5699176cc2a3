/**
 * The committed size of each tenant's log, as last read, so a proof for a size already known to
 * exist needs no read. The log is append-only: a size that was committed once stays a valid tree
 * size forever, on every origin sharing the database, so a known size is only ever a lower bound of
 * the real one. Whatever would be refused (a size past the known one, an entry past the current
 * size) is decided on a fresh read, never on memory: nothing that exists is refused because of
 * the cache, and nothing that does not exist is served.
 */
import { eq } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { Queryable } from "../db/index.ts";
import { auditHeads } from "../db/schema.ts";

/** How old the "current" size may be when a request names no size (inclusion without tree_size). */
export const CURRENT_SIZE_MAX_AGE_MS = 1000;
const MAX_TENANTS = 10_000;

export class LogSizes {
  readonly #known = new Map<string, { size: number; readAt: number }>();

  constructor(
    private readonly db: Queryable,
    private readonly clock: Clock,
  ) {}

  /** Reads the committed size now (0 for a log with no entries) and remembers it. */
  async read(tenantId: string): Promise<number> {
    const readAt = this.clock.now().getTime();
    const [h] = await this.db.select({ size: auditHeads.size }).from(auditHeads).where(eq(auditHeads.tenantId, tenantId));
    const size = h?.size ?? 0;
    this.observe(tenantId, size, readAt);
    return size;
  }

  /** Remembers a committed size read (outside a transaction) at `readAt` by someone else, e.g. the tree-head route. */
  observe(tenantId: string, size: number, readAt = this.clock.now().getTime()): void {
    const old = this.#known.get(tenantId);
    this.#known.delete(tenantId);
    this.#known.set(tenantId, { size: Math.max(size, old?.size ?? 0), readAt: Math.max(readAt, old?.readAt ?? 0) });
    if (this.#known.size > MAX_TENANTS) this.#known.delete(this.#known.keys().next().value!);
  }

  /** A committed size ≥ `min` from memory when one is known, else the size read now (which may be < `min`). */
  async atLeast(tenantId: string, min: number): Promise<number> {
    const k = this.#known.get(tenantId);
    return k && k.size >= min ? k.size : this.read(tenantId);
  }

  /**
   * The current size, read at most CURRENT_SIZE_MAX_AGE_MS ago, and ≥ `min` if the log has that
   * many entries (read now otherwise): what a request that names no size is answered for.
   */
  async current(tenantId: string, min: number): Promise<number> {
    const k = this.#known.get(tenantId);
    const age = k ? this.clock.now().getTime() - k.readAt : -1;
    return k && k.size >= min && age >= 0 && age < CURRENT_SIZE_MAX_AGE_MS ? k.size : this.read(tenantId);
  }
}
