import { err, type Result } from "@kakunin/shared";
import type { KeyManager, KeyManagerError } from "./types.ts";

/**
 * Gives every call to a remote key manager a deadline. A KMS endpoint or HSM that accepts a
 * connection and never answers would otherwise hold the caller forever: the publisher would stop
 * delivering even the status records that need no signature. Past the deadline the call resolves
 * to `unavailable` (503 at the API; the publisher publishes unsigned and re-signs on recovery);
 * the late answer, if it ever comes, is ignored.
 *
 * Limit: a PKCS#11 module that blocks inside a synchronous C call blocks the event loop itself;
 * the deadline covers asynchronous waits (network KMS, the session pool), not a frozen thread.
 */
export function withDeadline(inner: KeyManager, ms: number): KeyManager {
  const timed = <T>(op: string, call: () => Promise<Result<T, KeyManagerError>>): Promise<Result<T, KeyManagerError>> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(err({ code: "unavailable", message: `${inner.kind} ${op} did not answer within ${ms} ms` })), ms);
      timer.unref?.();
      call().then(
        (r) => { clearTimeout(timer); resolve(r); },
        (e: unknown) => { clearTimeout(timer); resolve(err({ code: "unavailable", message: `${inner.kind} ${op} failed: ${e instanceof Error ? e.message : String(e)}` })); },
      );
    });
  return {
    kind: inner.kind,
    // Rest parameters, not named ones: a hand-written list once dropped createKey's intent, so
    // AWS/PKCS#11 keys carried no intent id and a key whose answer was lost could never be found.
    createKey: (...args) => timed("CreateKey", () => inner.createKey(...args)),
    getPublicKey: (...args) => timed("GetPublicKey", () => inner.getPublicKey(...args)),
    sign: (...args) => timed("Sign", () => inner.sign(...args)),
    scheduleDeletion: (...args) => timed("ScheduleKeyDeletion", () => inner.scheduleDeletion(...args)),
    listKeys: (...args) => timed("ListKeys", () => inner.listKeys(...args)),
    warm: inner.warm ? () => inner.warm!() : undefined,
    poolStatus: inner.poolStatus ? () => inner.poolStatus!() : undefined,
    close: () => inner.close(),
  };
}
