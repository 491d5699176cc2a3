import type { FetchLike } from "./types.ts";

/** How the SDK sends a request it bounds by a deadline: the request, and the deadline's signal. */
export type BoundedFetch = (request: Request, signal: AbortSignal) => Promise<Response>;

/**
 * The caller's fetch (it reads `request.signal`), or the platform's with the deadline's signal given
 * to fetch() itself. In Node (undici) a Request follows the signal it was built with only through a
 * weak reference, and fetch(request) copies it again: once the garbage collector ran, the deadline's
 * abort reached nothing, and every verify that timed out against a hung edge kept its socket until
 * undici's own 300 s headers timeout (sdk/test/edge-timeout-gc.test.ts). Given in fetch's init, the
 * signal is held for the request's life.
 */
export function boundedFetch(custom: FetchLike | undefined): BoundedFetch {
  return custom ? (r) => custom(r) : (r, signal) => fetch(r, { signal });
}
