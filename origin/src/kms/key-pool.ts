/**
 * RSA-2048 generation costs tens of milliseconds, the slowest step of issuance. The pool keeps a few
 * pairs generated ahead of demand so a burst of certify calls does not wait for them one by one.
 * Pairs live only in memory until taken; nothing about them is persisted or reused.
 */
export class KeyPool<K> {
  private ready: K[] = [];
  private filling = 0;
  private stopped = false;

  constructor(
    private readonly size: number,
    private readonly generate: () => Promise<K>,
  ) {}

  /** A pre-generated pair if one is ready, otherwise a fresh one; either way the pool refills. */
  async take(): Promise<K> {
    const pair = this.ready.shift();
    this.refill();
    return pair ?? this.generate();
  }

  /** Starts filling without waiting (call at start-up to warm the pool). */
  warm(): void {
    this.refill();
  }

  stop(): void {
    this.stopped = true;
    this.ready = [];
  }

  private refill(): void {
    // Generate at most two at a time: WebCrypto runs them on the libuv pool, and these machines
    // have two cores that also serve requests.
    while (!this.stopped && this.ready.length + this.filling < this.size && this.filling < 2) {
      this.filling++;
      this.generate()
        .then((k) => {
          if (!this.stopped && this.ready.length < this.size) this.ready.push(k);
        })
        .catch(() => undefined)
        .finally(() => {
          this.filling--;
          this.refill();
        });
    }
  }
}
