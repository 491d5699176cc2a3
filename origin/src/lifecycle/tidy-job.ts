import { SYSTEM } from "../audit/types.ts";
import type { LoopReporter } from "../observability/background-health.ts";
import { errorFields } from "../observability/logger.ts";
import type { Services } from "../services.ts";
import { supersedeDue } from "./supersede.ts";
import { tidy } from "./tidy.ts";

/**
 * The periodic side of renewal and key clean-up: renewal overlaps that ended become `superseded`
 * (every `supersedeMs`, so the CRL and OCSP follow within a minute; verify needs no job), and the
 * tidy runs every KAKUNIN_TIDY_INTERVAL_S (0 disables it; `POST /v1/admin/tidy` runs it on demand).
 */
export class TidyJob {
  private timers: ReturnType<typeof setInterval>[] = [];
  /** The run under way (one at a time), so that stop() lets it finish before the database closes. */
  private current?: Promise<void>;

  constructor(private readonly s: Services, private readonly opts: { supersedeMs?: number } = {}) {}

  start(): void {
    const every = (ms: number, name: "supersede" | "tidy", fn: () => Promise<unknown>) => {
      const health = this.s.background.loop(name);
      const t = setInterval(() => void this.guard(health, fn), ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(this.opts.supersedeMs ?? 30_000, "supersede", async () => {
      if (await supersedeDue(this.s.db, this.s.clock.now())) this.s.publisher?.kick();
    });
    const interval = this.s.config.KAKUNIN_TIDY_INTERVAL_S;
    if (interval > 0) every(interval * 1000, "tidy", () => this.runTidy());
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.current;
  }

  async runTidy() {
    const report = await tidy(this.s.db, this.s.keys, {
      now: this.s.clock.now(),
      safetyBufferSeconds: this.s.config.KAKUNIN_TIDY_SAFETY_BUFFER_S,
      pendingWindowDays: this.s.config.KAKUNIN_KEY_DELETION_WINDOW_DAYS,
      actor: SYSTEM("tidy"),
    });
    if (report.superseded || report.certificate_keys) this.s.publisher?.kick();
    if (report.failed.length) this.s.logger.warn("keys not deleted yet; the next run retries", { component: "tidy", event: "keys_not_deleted", count: report.failed.length });
    return report;
  }

  /** One run at a time per process; errors are logged, never thrown out of a timer. */
  private guard(health: LoopReporter, fn: () => Promise<unknown>): Promise<void> {
    this.current ??= (async () => {
      try {
        await fn();
        health.succeeded();
      } catch (e) {
        health.failed(e);
        this.s.logger.warn("tidy run failed", { component: "tidy", event: "run_failed", ...errorFields(e) });
      }
    })().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }
}
