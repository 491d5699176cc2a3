import { innermostMessage } from "../causes.ts";
import { isStorageFault, sqlState } from "../db/index.ts";
import type { StorageFaults } from "../db/storage-faults.ts";

/** The background jobs, as the `loop` label of their metrics and the names /readyz gives. */
export type LoopName = "publish" | "signing" | "archive" | "webhooks" | "refresh" | "tidy" | "supersede";

/** Failures in a row after which /readyz names a loop: one failed pass is a blip, three is a stuck job. */
export const FAILING_AFTER = 3;

export interface LoopState {
  /** Epoch ms of the last pass that succeeded; undefined while none has. */
  lastSuccessAt?: number;
  consecutiveFailures: number;
  /** Epoch ms of the first failure of the current run of failures. */
  failingSince?: number;
  lastError?: string;
}

/** What a background job tells after each pass. */
export interface LoopReporter {
  succeeded(): void;
  failed(error: unknown): void;
}

/**
 * The state of every background job, for /readyz and /metrics. A job that keeps failing was only
 * visible in a log line every tenth attempt; this keeps its last success and its failures in a row.
 * A storage fault a job meets (the database's disk full or read-only) is recorded in StorageFaults
 * as a failed request's is: the database is as broken for the next request as it was for the job.
 */
export class BackgroundHealth {
  private readonly loops = new Map<LoopName, LoopState>();

  constructor(private readonly o: { now: () => number; storageFaults: StorageFaults }) {}

  /** The reporter one job uses; the loop shows in /metrics from now on, before its first pass. */
  loop(name: LoopName): LoopReporter {
    const state = this.stateOf(name);
    return {
      succeeded: () => {
        state.lastSuccessAt = this.o.now();
        state.consecutiveFailures = 0;
        state.failingSince = undefined;
        state.lastError = undefined;
      },
      failed: (error) => {
        if (state.consecutiveFailures === 0) state.failingSince = this.o.now();
        state.consecutiveFailures++;
        const message = typeof error === "string" ? error : innermostMessage(error, 5);
        state.lastError = message.split("\n")[0]!.slice(0, 200);
        if (isStorageFault(error)) this.o.storageFaults.record(`in background job ${name}: SQLSTATE ${sqlState(error)}: ${state.lastError}`);
      },
    };
  }

  /** Every loop registered so far, by name. */
  all(): ReadonlyMap<LoopName, Readonly<LoopState>> {
    return this.loops;
  }

  /** The loops with at least FAILING_AFTER failures in a row, for /readyz. */
  failing(): [LoopName, Readonly<LoopState>][] {
    return [...this.loops].filter(([, s]) => s.consecutiveFailures >= FAILING_AFTER);
  }

  private stateOf(name: LoopName): LoopState {
    let s = this.loops.get(name);
    if (!s) {
      s = { consecutiveFailures: 0 };
      this.loops.set(name, s);
    }
    return s;
  }
}
