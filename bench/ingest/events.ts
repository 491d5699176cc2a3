const INSTRUMENTS = ["EURUSD", "GBPUSD", "USDJPY", "EURCHF", "AUDUSD", "USDCAD", "EURGBP", "NZDUSD"] as const;

/**
 * One agent's event stream: a trading agent quoting and placing orders of ~100 EUR on a handful of
 * instruments, with the odd error. Event times start at `startMs` and advance by `stepMs` per
 * event, so they increase per agent; the caller sizes the step so the stream stays within the
 * last hour for as many events as the run can send. Event ids are unique per run.
 */
export class AgentStream {
  private n = 0;

  constructor(private readonly id: string, private readonly startMs: number, private readonly stepMs: number) {}

  next(): Record<string, unknown> {
    const i = this.n++;
    const place = i % 3 === 0;
    return {
      event_id: `${this.id}-${i}`,
      timestamp: new Date(this.startMs + i * this.stepMs).toISOString(),
      type: "tool_call",
      action: place ? "orders.place" : "orders.quote",
      resource: `instrument/${INSTRUMENTS[(i * 5) % INSTRUMENTS.length]}`,
      ...(place ? { amount: 90 + ((i * 37) % 25), currency: "EUR" } : {}),
      outcome: i % 50 === 7 ? "error" : "success",
      latency_ms: 80 + (i % 7) * 5,
    };
  }
}

export interface BenchRequest {
  token: string;
  body: Buffer;
}

/**
 * The requests of one benchmark row, in order: request i goes to agent i mod agents, with `batch`
 * events (a bare event when batch is 1, as a client posting one event would send it). Requests are
 * built ahead (`prepare`) or on first use, and kept, so `rewind()` replays exactly the same
 * requests (headers and bodies) to the next target; the row's memory is bounded by its budget.
 */
export class RequestSource {
  private readonly built: BenchRequest[] = [];
  private cursor = 0;

  constructor(private readonly agents: readonly { token: string; stream: AgentStream }[], readonly batch: number) {}

  /**
   * The next request. With `replay`, past the built ones it starts over from the first (for the
   * no-op, which can outrun the budget and does not care about duplicate event ids).
   */
  next(replay = false): BenchRequest {
    const i = this.cursor++;
    if (replay && i >= this.built.length && this.built.length > 0) return this.built[i % this.built.length]!;
    let r = this.built[i];
    if (!r) {
      const a = this.agents[i % this.agents.length]!;
      const events = Array.from({ length: this.batch }, () => a.stream.next());
      r = { token: a.token, body: Buffer.from(JSON.stringify(this.batch === 1 ? events[0] : { events })) };
      this.built[i] = r;
    }
    return r;
  }

  /** Builds the first `n` requests ahead of time, so neither target pays for building them while timed. */
  prepare(n: number): void {
    for (let i = this.built.length; i < n; i++) this.next();
    this.cursor = 0;
  }

  rewind(): void {
    this.cursor = 0;
  }

  /** How many distinct requests were built (each agent's stream advanced by that × batch / agents). */
  get size(): number {
    return this.built.length;
  }
}
