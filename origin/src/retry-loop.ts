import type { LoopReporter } from "./observability/background-health.ts";
import { errorFields, outsideRequest, type LogFn } from "./observability/logger.ts";

/** What one pass of a background job reports. */
export type PassResult = { outcome: "idle" } | { outcome: "more" } | { outcome: "failed"; error: string };

export interface RetryLoopOptions {
  /** Wait between passes when there is nothing to do. */
  idleMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** What the job is, for log lines ("edge", "archive"). */
  name: string;
  /** Structured: `event` says which of the three lines it is, `error` why. */
  log: LogFn;
  /** Told the outcome of every pass, so /readyz and /metrics see a job that keeps failing. */
  health?: LoopReporter;
}

/**
 * Runs a job forever in the background: again at once while it reports more work, after `idleMs`
 * when idle, with exponential backoff and jitter while it fails (logging the first failure, every
 * tenth, and the recovery). One pass at a time; `kick()` asks for an early pass unless backing off.
 * The publisher and the archiver share it, so both retry the same way.
 */
export class RetryLoop {
  private timer?: ReturnType<typeof setTimeout>;
  private running = false;
  private stopped = true;
  private kicked = false;
  private failures = 0;

  constructor(private readonly pass: () => Promise<PassResult>, private readonly o: RetryLoopOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    if (this.failures === 0) this.schedule(0);
  }

  /** A pass now, even while backing off (the failure count stays): the caller knows the cause is gone. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    // A request's kick() schedules the pass: it is still the job's, not that request's.
    this.timer = outsideRequest(() => setTimeout(() => void this.tick(), ms));
    this.timer.unref?.();
  }

  private backoff(): number {
    const base = Math.min(this.o.maxBackoffMs, this.o.minBackoffMs * 2 ** Math.min(this.failures - 1, 16));
    return base / 2 + Math.random() * (base / 2);
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    this.kicked = false;
    let next = this.o.idleMs;
    try {
      const r = await this.pass();
      if (r.outcome === "failed") {
        this.o.health?.failed(r.error);
        this.failures++;
        next = this.backoff();
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.o.log(`${r.error} (attempt ${this.failures}, retrying in ${Math.round(next)} ms)`, {
            event: "pass_failed", error: r.error.slice(0, 300), attempt: this.failures, retry_in_ms: Math.round(next),
          });
        }
      } else {
        this.o.health?.succeeded();
        if (this.failures > 0) this.o.log(`${this.o.name} reachable again after ${this.failures} failed attempt(s)`, { event: "recovered", failed_attempts: this.failures });
        this.failures = 0;
        if (r.outcome === "more" || this.kicked) next = 0;
      }
    } catch (e) {
      // The error itself, not its message: a storage fault is told by its SQLSTATE.
      this.o.health?.failed(e);
      this.failures++;
      next = this.backoff();
      // No stack: a log line is one line, and a failed query's message carries its parameters.
      const f = errorFields(e);
      this.o.log(`unexpected error: ${f.error_kind}: ${f.error}`, { event: "pass_threw", attempt: this.failures, retry_in_ms: Math.round(next), ...f });
    } finally {
      this.running = false;
    }
    this.schedule(next);
  }
}
