import type { KeyManager } from "../kms/types.ts";
import type { Metrics } from "./metrics.ts";

/** Housekeeping methods that are not calls to the KMS/HSM. */
const NOT_CALLS = new Set<PropertyKey>(["warm", "poolStatus", "close"]);

/**
 * The key manager with every call to its backend counted and timed (kakunin_kms_calls_total,
 * kakunin_kms_call_duration_seconds), by operation and outcome (`ok` or the KeyManagerError code).
 * A Proxy rather than a hand-written wrapper, so an operation added to the interface later
 * (scheduleDeletion, …) is measured without touching this file.
 */
export function instrumentKeyManager(keys: KeyManager, metrics: Pick<Metrics, "kmsCalls" | "kmsDuration">): KeyManager {
  return new Proxy(keys, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || NOT_CALLS.has(prop) || typeof prop !== "string") return value;
      return async (...args: unknown[]) => {
        const start = performance.now();
        let outcome = "ok";
        try {
          const result: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
          if (isErr(result)) outcome = result.error.code;
          return result;
        } catch (e) {
          outcome = "exception";
          throw e;
        } finally {
          const labels = { backend: target.kind, op: prop, outcome };
          metrics.kmsCalls.inc(labels);
          metrics.kmsDuration.observe(labels, (performance.now() - start) / 1000);
        }
      };
    },
  });
}

function isErr(v: unknown): v is { ok: false; error: { code: string } } {
  return typeof v === "object" && v !== null && (v as { ok?: unknown }).ok === false && typeof (v as { error?: { code?: unknown } }).error?.code === "string";
}
