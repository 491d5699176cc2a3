/**
 * POST /v1/events for one batch. Resending a batch is safe (event ids are idempotency keys; the
 * edge acknowledges a repeat as a duplicate), so transient failures are retried, boundedly:
 * a 503 with Retry-After (a freshly issued certificate not yet at this edge) waits as told,
 * a network error or other 5xx backs off a few times.
 */
import type { Result } from "@kakunin/shared";
import { call, type Endpoint, type Failure } from "../http.ts";
import { batchBody } from "./batches.ts";

export interface Reason { feature: string; contribution: number; detail: string }

export interface EventResult {
  event_id: string;
  score: number;
  band: "low" | "medium" | "high";
  reasons: Reason[];
  duplicate?: boolean;
}

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  results: EventResult[];
}

export interface RetryPolicy {
  /**
   * Longest total time spent on one batch, wall clock: attempts (however long the edge takes to
   * answer, or not answer) and the waits between them.
   */
  maxWaitMs: number;
  /** Shortest time an attempt is given, even when little of the budget is left. */
  minAttemptMs: number;
  /** Longest single wait, whatever Retry-After says. */
  maxDelayMs: number;
  sleep(ms: number): Promise<void>;
  /** Told before each wait, so the user sees why the tool pauses. */
  onRetry(why: string, delayMs: number): void;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, "onRetry"> = {
  maxWaitMs: 30_000,
  minAttemptMs: 5_000,
  maxDelayMs: 5_000,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

function delayFor(f: Failure, attempt: number, policy: RetryPolicy): number | undefined {
  if (f.kind !== "unavailable") return undefined;
  if (f.status === 503 && f.retryAfterS !== undefined) return Math.min(Math.max(f.retryAfterS * 1000, 200), policy.maxDelayMs);
  if (attempt >= 3) return undefined;
  return Math.min(500 * 2 ** attempt, policy.maxDelayMs);
}

export async function postBatch(edge: Endpoint, batch: readonly { json: string }[], policy: RetryPolicy): Promise<Result<IngestOutcome, Failure>> {
  const body = batchBody(batch);
  // Wall clock, not the sum of sleeps: an edge that accepts the connection and never answers
  // would otherwise hold each attempt for the whole request timeout, minutes per batch.
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const remaining = policy.maxWaitMs - (Date.now() - started);
    const r = await call<{ data: IngestOutcome }>("POST", edge, "/v1/events", { body, timeoutMs: Math.max(remaining, policy.minAttemptMs) });
    if (r.ok) return { ok: true, value: r.value.body.data };
    const delay = delayFor(r.error, attempt, policy);
    const elapsed = Date.now() - started;
    if (delay === undefined || elapsed + delay > policy.maxWaitMs) return gaveUp(r.error, elapsed, attempt);
    policy.onRetry(r.error.kind === "unavailable" ? r.error.detail : "refused", delay);
    await policy.sleep(delay);
  }
}

/** The last failure, saying how long the batch was tried when that is not obvious from it. */
function gaveUp(f: Failure, elapsedMs: number, attempt: number): Result<IngestOutcome, Failure> {
  if (f.kind !== "unavailable" || (attempt === 0 && elapsedMs < 1_000)) return { ok: false, error: f };
  const tries = attempt + 1;
  return { ok: false, error: { ...f, detail: `${f.detail}; gave up on this batch after ${Math.round(elapsedMs / 1000)} s (${tries} attempt${tries === 1 ? "" : "s"})` } };
}
