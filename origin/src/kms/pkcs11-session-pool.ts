/**
 * A fixed set of resources (PKCS#11 sessions) handed out one caller at a time, FIFO.
 *
 * Why: a PKCS#11 session runs one cryptographic operation at a time. Our signs run C_Sign on the
 * libuv thread pool, so between C_SignInit and the callback the session is busy; a second
 * C_SignInit on it fails with CKR_OPERATION_ACTIVE. Exclusive leases make that impossible while
 * still letting `size` operations run in parallel on the token.
 */

export class PoolClosedError extends Error {
  constructor() {
    super("PKCS#11 session pool is closed");
    this.name = "PoolClosedError";
  }
}

export interface SessionPool<R> {
  /** Runs `fn` with exclusive use of one resource; waits in FIFO order when all are busy. */
  use<T>(fn: (resource: R) => Promise<T>): Promise<T>;
  /** Refuses new and queued callers, then resolves once every lease has been returned. */
  drain(): Promise<void>;
}

export function createSessionPool<R>(resources: readonly R[]): SessionPool<R> {
  const idle = [...resources];
  const waiters: Array<{ resolve: (r: R) => void; reject: (e: Error) => void }> = [];
  let leased = 0;
  let closed = false;
  let onIdle: (() => void) | undefined;
  let drained: Promise<void> | undefined;

  const acquire = (): Promise<R> => {
    if (closed) return Promise.reject(new PoolClosedError());
    const free = idle.pop();
    if (free !== undefined) {
      leased++;
      return Promise.resolve(free);
    }
    return new Promise<R>((resolve, reject) => waiters.push({ resolve, reject }));
  };

  const release = (resource: R): void => {
    const next = waiters.shift();
    if (next) {
      next.resolve(resource); // hand over directly: the lease count is unchanged
      return;
    }
    leased--;
    idle.push(resource);
    if (leased === 0) onIdle?.();
  };

  return {
    async use<T>(fn: (resource: R) => Promise<T>): Promise<T> {
      const resource = await acquire();
      try {
        return await fn(resource);
      } finally {
        release(resource);
      }
    },
    drain(): Promise<void> {
      if (drained) return drained;
      closed = true;
      for (const w of waiters.splice(0)) w.reject(new PoolClosedError());
      drained = leased === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onIdle = resolve));
      return drained;
    },
  };
}
