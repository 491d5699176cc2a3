import { createRoute, z } from "@hono/zod-openapi";
import { dataResponse, problemResponses, serve, type EdgeApp } from "../http/openapi.ts";

export const route = createRoute({
  method: "post",
  path: "/bench/noop",
  summary: "Ingest benchmark baseline: reads the body and does nothing (404 unless KAKUNIN_BENCH_NOOP=1)",
  tags: ["internal"],
  description: "Benchmarks send the same Authorization header as to /v1/events; it is not checked.",
  request: { body: { description: "Any body; not parsed", content: { "application/json": { schema: z.unknown() } } } },
  responses: {
    202: dataResponse(z.object({ accepted: z.literal(0), bytes: z.number().int() }), "Read, not processed"),
    ...problemResponses({ 404: "Not enabled on this Worker" }),
  },
});

/**
 * The ingest benchmark's baseline: the same request (auth header, JSON batch) answered without
 * doing any work. Exists only when the Worker runs with KAKUNIN_BENCH_NOOP=1 (never in wrangler.toml).
 * The route is always registered (vars are per request, the app is built once), so it is documented.
 */
export function register(app: EdgeApp): void {
  serve(app, route, async (c) => {
    if (c.env.KAKUNIN_BENCH_NOOP !== "1") return c.notFound();
    const body = await c.req.arrayBuffer();
    return c.json({ data: { accepted: 0, bytes: body.byteLength } }, 202);
  });
}
