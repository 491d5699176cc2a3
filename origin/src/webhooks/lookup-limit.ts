/**
 * Runs at most `max` calls at once; the others wait in line, at most `waitMs` and at most
 * `maxWaiting` of them, then fail. A slot is freed when the call itself settles, not when its
 * caller stops waiting for it.
 *
 * For the system resolver: `dns.lookup` is getaddrinfo on libuv's thread pool (4 threads unless
 * UV_THREADPOOL_SIZE says otherwise), the pool WebCrypto key generation, zlib and file I/O also
 * run on. A webhook host whose DNS never answers holds a thread until the system resolver gives
 * up (tens of seconds), whatever the delivery's own deadline; 20 deliveries in flight to such
 * hosts (one tenant's admin can register them) would take the whole pool and stall every
 * tenant's certify. Bounding the lookups leaves the rest of the pool to the work that needs it.
 */
export function concurrencyLimit(max: number, waitMs: number, maxWaiting = 256): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const line: { go: () => void; timer: ReturnType<typeof setTimeout> }[] = [];
  const next = () => {
    const w = line.shift();
    if (!w) return;
    clearTimeout(w.timer);
    w.go();
  };
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const start = (): Promise<T> => {
      running++;
      const p = fn();
      p.then(
        () => {},
        () => {},
      ).finally(() => {
        running--;
        next();
      });
      return p;
    };
    if (running < max) return start();
    if (line.length >= maxWaiting) return Promise.reject(new Error(`${maxWaiting} DNS lookups already waiting for one of ${max} slots`));
    return new Promise<T>((resolve, reject) => {
      const w = {
        go: () => start().then(resolve, reject),
        timer: setTimeout(() => {
          line.splice(line.indexOf(w), 1);
          reject(new Error(`waited ${waitMs} ms for a DNS lookup slot (${max} in use)`));
        }, waitMs),
      };
      w.timer.unref?.();
      line.push(w);
    });
  };
}
