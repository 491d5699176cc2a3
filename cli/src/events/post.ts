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
  /** Longest total time spent waiting on one batch. */
  maxWaitMs: number;
  /** Longest single wait, whatever Retry-After says. */
  maxDelayMs: number;
  sleep(ms: number): Promise<void>;
  /** Told before each wait, so the user sees why the tool pauses. */
  onRetry(why: string, delayMs: number): void;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, "onRetry"> = {
  maxWaitMs: 30_000,
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
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    const r = await call<{ data: IngestOutcome }>("POST", edge, "/v1/events", { body, timeoutMs: 120_000 });
    if (r.ok) return { ok: true, value: r.value.body.data };
    const delay = delayFor(r.error, attempt, policy);
    if (delay === undefined || waited + delay > policy.maxWaitMs) return r;
    policy.onRetry(r.error.kind === "unavailable" ? r.error.detail : "refused", delay);
    await policy.sleep(delay);
    waited += delay;
  }
}
