import { count, eq, sql } from "drizzle-orm";
import { errorFields, outsideRequest, processLogger } from "../observability/logger.ts";
import { rowsOfResult, type Db } from "../db/index.ts";
import { localKeys } from "../db/schema.ts";
import type { KeyGenerator, SealedKey } from "./keygen-workers.ts";

/** A key that is in the database under its caller's label, ready to hand out. */
export interface SuppliedKey {
  id: string;
  spki: Uint8Array;
}

interface Waiter {
  label: string;
  resolve(key: SuppliedKey): void;
  reject(e: Error): void;
}

interface Pending {
  key: SealedKey;
  /** Undefined: the key goes into the pool. */
  waiter?: Waiter;
}

/**
 * Where the local KeyManager's keys come from, with the generator kept busy on every thread:
 *
 * - A certify takes a pooled key (one UPDATE … SKIP LOCKED: no two origins get the same row).
 * - When the pool is empty it never generates on its own: it queues, and the next key any thread
 *   finishes is inserted under its label and handed to it, oldest waiter first (so none starves,
 *   and the request path and the refill never race for the same CPU).
 * - Keys nobody waits for refill the pool to `poolSize` (once warm), on all threads but one (the
 *   event loop keeps a core for requests). Finished keys are inserted in batches: one INSERT per
 *   burst of keys, not a COUNT and an INSERT per key.
 *
 * A key is handed out only after the row carrying its caller's label has committed, so a restart
 * never loses or repeats a key that someone received.
 */
export function createKeySupply(opts: { db: Db; generator: KeyGenerator; poolSize: number }) {
  const { db, generator, poolSize } = opts;
  const log = processLogger("local_keys");
  const waiters: Waiter[] = [];
  const pending: Pending[] = [];
  let inFlight = 0;
  // Pool-bound keys that have arrived but whose INSERT has not committed yet.
  let arrivingForPool = 0;
  // Pooled rows as far as this process knows; undefined until counted. Other origins sharing the
  // database can make it stale: a miss resets it to 0, and every poolStatus() recounts.
  let ready: number | undefined;
  let warmed = false;
  let stopped = false;
  let flushing: Promise<void> | undefined;

  let counting = false;

  /** Keys the pool lacks; while the level is unknown (first call, or a failed count) it is counted first. */
  function poolDeficit(): number {
    if (!warmed) return 0;
    if (ready === undefined) {
      if (!counting) {
        counting = true;
        countPooled().then(
          () => {
            counting = false;
            pump();
          },
          (e: unknown) => {
            counting = false;
            log.warn("local key pool: counting pooled keys failed", { event: "pool_count_failed", ...errorFields(e) });
          },
        );
      }
      return 0;
    }
    return Math.max(0, poolSize - ready - arrivingForPool);
  }

  // A refill nobody is waiting for leaves one core to the event loop, so certify calls served from
  // the pool are not slowed by the refill; waiting requests get every thread.
  const refillThreads = Math.max(1, generator.threads - 1);

  /** Starts as many generations as there is demand for, up to the generator's threads. */
  function pump(): void {
    if (stopped) return;
    const wanted = waiters.length > 0 ? Math.min(generator.threads, waiters.length + poolDeficit()) : Math.min(refillThreads, poolDeficit());
    while (inFlight < wanted) {
      inFlight++;
      // The refill is the pool's, not the request that asked for a key: its lines carry no request id.
      outsideRequest(() => generator.generate().then(arrived, failed));
    }
  }

  function arrived(key: SealedKey): void {
    inFlight--;
    if (stopped) return;
    const waiter = waiters.shift();
    if (!waiter) arrivingForPool++;
    pending.push({ key, waiter });
    void flush();
    pump();
  }

  function failed(e: unknown): void {
    inFlight--;
    if (stopped) return;
    // Fail the oldest request rather than leave it waiting on a generator that keeps failing.
    const error = e instanceof Error ? e : new Error(String(e));
    log.warn("local key generation failed", { event: "keygen_failed", ...errorFields(error) });
    waiters.shift()?.reject(error);
    setTimeout(pump, 1000).unref();
  }

  /** One INSERT for everything that finished since the last one; a single flusher at a time. */
  function flush(): Promise<void> {
    flushing ??= (async () => {
      try {
        while (pending.length > 0) {
          const batch = pending.splice(0);
          const toPool = batch.filter((p) => !p.waiter).length;
          try {
            await db.insert(localKeys).values(
              batch.map(({ key, waiter }) => ({
                id: key.id,
                label: waiter ? waiter.label : "pool",
                publicKeySpki: key.spki,
                sealedPrivateKey: key.sealed,
                pooled: !waiter,
              })),
            );
          } catch (e) {
            const error = e instanceof Error ? e : new Error(String(e));
            // errorFields, not error.message: a failed INSERT's message carries the sealed keys.
            if (!stopped) log.warn("local key pool: storing generated keys failed", { event: "pool_store_failed", ...errorFields(e) });
            for (const p of batch) p.waiter?.reject(error);
            continue;
          } finally {
            arrivingForPool -= toPool;
          }
          if (ready !== undefined) ready += toPool;
          for (const p of batch) p.waiter?.resolve({ id: p.key.id, spki: p.key.spki });
        }
      } finally {
        flushing = undefined;
      }
    })();
    return flushing;
  }

  async function countPooled(): Promise<number> {
    const [row] = await db.select({ n: count() }).from(localKeys).where(eq(localKeys.pooled, true));
    ready = row?.n ?? 0;
    return ready;
  }

  /** Hands out the oldest ready key; SKIP LOCKED keeps two origins from claiming the same one. */
  async function claim(label: string): Promise<SuppliedKey | undefined> {
    const res = await db.execute(sql`
      update ${localKeys} set pooled = false, label = ${label}, created_at = now()
      where id = (select id from ${localKeys} where pooled order by created_at limit 1 for update skip locked)
      returning id, public_key_spki`);
    const row = rowsOfResult<{ id: string; public_key_spki: Uint8Array }>(res)[0];
    if (!row) {
      ready = 0;
      return undefined;
    }
    if (ready !== undefined) ready = Math.max(0, ready - 1);
    const spki = row.public_key_spki;
    return { id: row.id, spki: new Uint8Array(spki.buffer, spki.byteOffset, spki.byteLength) };
  }

  return {
    /** Starts keeping `poolSize` keys ready. */
    warm(): void {
      if (warmed || stopped || poolSize <= 0) return;
      warmed = true;
      pump();
    },
    /** A key stored under `label`: a pooled one if any is known, else the next one generated. */
    async take(label: string): Promise<SuppliedKey> {
      // A known-empty pool costs no round trip: the request queues for the next finished key.
      const hit = poolSize > 0 && ready !== 0 ? await claim(label) : undefined;
      if (hit) {
        pump();
        return hit;
      }
      if (stopped) throw new Error("local KeyManager closed");
      return new Promise<SuppliedKey>((resolve, reject) => {
        waiters.push({ label, resolve, reject });
        pump();
      });
    },
    async status(): Promise<{ ready: number; target: number }> {
      const n = await countPooled();
      pump();
      return { ready: n, target: poolSize };
    },
    async close(): Promise<void> {
      stopped = true;
      for (const w of waiters.splice(0)) w.reject(new Error("local KeyManager closed"));
      await flushing;
      await generator.close();
    },
  };
}
