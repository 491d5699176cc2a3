import type { Context, MiddlewareHandler } from "hono";
import { createGate, maxBodyBytesOf, type GateRequest, type KakuninAgent } from "./gate.ts";
import { assertStaticOptions, targetProblem, resolveChecksOrProblem, type MiddlewareOptions } from "./middleware-options.ts";
import { readCapped } from "./capped-body.ts";
import type { BodyRead } from "./possession.ts";
import { problemResponse } from "./problems.ts";

export type { KakuninAgent } from "./gate.ts";
export type KakuninHonoOptions = MiddlewareOptions<Context>;
/** Env for apps and routes that read the agent: `new Hono<KakuninEnv>()`, then `c.get("kakuninAgent")`. */
export type KakuninEnv = { Variables: { kakuninAgent: KakuninAgent } };

/**
 * Hono middleware: verifies the agent named by `Kakunin-Agent-Serial` at the edge and, by default,
 * its RFC 9421 signature; refuses with problem+json, otherwise sets `kakuninAgent` and continues.
 * Works wherever Hono runs (Workers, Node, Deno, Bun): Web APIs only.
 */
export function kakunin(options: KakuninHonoOptions): MiddlewareHandler<KakuninEnv> {
  assertStaticOptions(options);
  const gate = createGate(options);
  const maxBody = maxBodyBytesOf(options);
  return async (c, next) => {
    // Fetch-style servers normally hand over a normalised URL; one that does not is refused, since
    // `new URL` below would sign-check another path than the one routed.
    const url = new URL(c.req.url);
    const rewritten = targetProblem(c.req.url, url);
    if (rewritten) return problemResponse(rewritten);
    const req: GateRequest = {
      method: c.req.method,
      url,
      header: (name) => c.req.raw.headers.get(name) ?? undefined,
      body: () => readBody(c, maxBody),
    };
    const resolved = await resolveChecksOrProblem(c, options);
    const result = resolved.ok ? await gate(req, resolved.checks) : resolved;
    if (!result.ok) return problemResponse(result.problem);
    c.set("kakuninAgent", result.agent);
    await next();
  };
}

/**
 * Through a capped stream (a chunked body is capped too), then into Hono's body cache, so the
 * handler can still call `c.req.json()` afterwards.
 */
async function readBody(c: Context, max: number): Promise<BodyRead> {
  // Hono types the cache as values but stores promises (hono/dist/request.js #cachedBody).
  const cache = c.req.bodyCache as { arrayBuffer?: Promise<ArrayBuffer> };
  if (Object.keys(cache).length > 0) {
    // An earlier middleware already read the body (and holds it in memory): only measure it.
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    return bytes.length > max ? { ok: false, problem: "payload-too-large", detail: `the body is larger than ${max} bytes` } : { ok: true, bytes };
  }
  const r = await readCapped(c.req.raw.body, max, c.req.header("content-length"));
  if (!r.ok) return { ok: false, problem: "payload-too-large", detail: `the body is larger than ${max} bytes` };
  cache.arrayBuffer = Promise.resolve(r.bytes.buffer as ArrayBuffer);
  return { ok: true, bytes: r.bytes };
}
