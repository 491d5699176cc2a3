import type { Context } from "hono";
import type { EdgeEnv } from "../app-env.ts";
import { edgeProblem } from "./problems.ts";

/** The edge's own stores: the per-agent monitors, the status ledger (Durable Objects) and KV. */
export type EdgeStore = "agent monitor" | "status ledger" | "status store";

/**
 * A call into one of the edge's own stores threw: a Durable Object reset by a deploy, overloaded,
 * or its storage failing; a KV read that failed. That is this edge being unavailable for a moment,
 * not a bug in the request or in the code, so app.onError answers it 503 with Retry-After (never
 * the 500 "unexpected error" a client reads as a broken edge).
 */
export class StoreUnavailable extends Error {
  readonly store: EdgeStore;
  /** Cloudflare sets `overloaded` on errors of an object that has too much queued: ask for a longer pause. */
  readonly overloaded: boolean;
  constructor(store: EdgeStore, cause: unknown) {
    super(`the edge's ${store} did not answer`, { cause });
    this.name = "StoreUnavailable";
    this.store = store;
    this.overloaded = typeof cause === "object" && cause !== null && (cause as { overloaded?: unknown }).overloaded === true;
  }
}

/**
 * A throw that is the object's own code failing, not the platform: Cloudflare marks what a Durable
 * Object's code throws `remote`, and what the platform throws (a reset by a deploy, a lost
 * connection, an overload; storage the runtime gave up on) `retryable` or `overloaded`. A bug, or a
 * stored state the code cannot read, throws the same on every call: answered "retry in a second" it
 * was retried by every gateway and SDK forever and never showed as the 5xx bug it is.
 */
function isOwnCodeFailure(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const f = e as { remote?: unknown; retryable?: unknown; overloaded?: unknown };
  return f.remote === true && f.retryable !== true && f.overloaded !== true;
}

/**
 * Runs one call into an edge store; its failure becomes a StoreUnavailable (answered 503 by
 * app.onError), unless the object's own code threw it (isOwnCodeFailure): that stays a 500.
 */
export async function fromStore<T>(store: EdgeStore, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof StoreUnavailable || isOwnCodeFailure(e)) throw e;
    throw new StoreUnavailable(store, e);
  }
}

/** The answer to a StoreUnavailable: 503 + Retry-After (1 s; 5 s when overloaded), logged with the request id. */
export function storeUnavailable(c: Context<EdgeEnv>, e: StoreUnavailable): Response {
  console.error("[edge] store did not answer", { request_id: c.var.requestId, store: e.store, overloaded: e.overloaded }, e.cause);
  const type = e.store === "agent monitor" ? "monitor-unavailable" : "edge-store-unavailable";
  return edgeProblem(c, type, `This edge's ${e.store} did not answer; retry after Retry-After.`, {
    headers: { "retry-after": e.overloaded ? "5" : "1", "cache-control": "no-store" },
  });
}
