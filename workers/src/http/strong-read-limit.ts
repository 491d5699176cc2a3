import type { Context } from "hono";
import type { EdgeEnv } from "../app-env.ts";
import { edgeProblem } from "./problems.ts";

/** Seconds a refused client waits: the binding's window (wrangler.toml `simple.period`). */
const RETRY_AFTER_S = 10;

/**
 * `?consistency=strong` reads all land on the single StatusLedger object, the one that applies
 * revocations. Each client (its IP as Cloudflare reports it) gets a small budget of them through
 * the Workers rate limiting binding; past it, 429 + Retry-After, so a public flood of strong reads
 * cannot queue in front of a revocation. Eventual (KV) reads are not limited here.
 * Without the binding (a deployment that removed it) nothing is limited.
 */
export async function strongReadRefused(c: Context<EdgeEnv>): Promise<Response | undefined> {
  const limiter = c.env.STRONG_READS;
  if (!limiter) return undefined;
  const client = c.req.header("cf-connecting-ip") ?? "unknown";
  const { success } = await limiter.limit({ key: `strong:${client}` });
  if (success) return undefined;
  return edgeProblem(c, "too-many-requests", "Too many ?consistency=strong reads from this client; use the default (eventual) read or retry later.", {
    headers: { "retry-after": String(RETRY_AFTER_S), "cache-control": "no-store" },
  });
}
