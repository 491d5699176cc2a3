import type { Hono } from "hono";
import type { EdgeEnv } from "../app-env.ts";

/**
 * The ingest benchmark's baseline: the same request (auth header, JSON batch) answered without
 * doing any work. Exists only when the Worker runs with KAKUNIN_BENCH_NOOP=1 (never in wrangler.toml).
 */
export function register(app: Hono<EdgeEnv>): void {
  app.post("/bench/noop", async (c) => {
    if (c.env.KAKUNIN_BENCH_NOOP !== "1") return c.notFound();
    const body = await c.req.arrayBuffer();
    return c.json({ data: { accepted: 0, bytes: body.byteLength } }, 202);
  });
}
