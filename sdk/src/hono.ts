import type { Context, MiddlewareHandler } from "hono";
import { createGate, type GateRequest, type KakuninAgent } from "./gate.ts";
import { resolveChecks, type MiddlewareOptions } from "./middleware-options.ts";
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
  const gate = createGate(options);
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  return async (c, next) => {
    const url = new URL(c.req.url);
    const req: GateRequest = {
      method: c.req.method,
      url,
      header: (name) => c.req.raw.headers.get(name) ?? undefined,
      body: () => readBody(c, maxBody),
    };
    const result = await gate(req, await resolveChecks(c, options));
    if (!result.ok) return problemResponse(result.problem);
    c.set("kakuninAgent", result.agent);
    await next();
  };
}

/** Through Hono's body cache, so the handler can still call `c.req.json()` afterwards. */
async function readBody(c: Context, max: number): Promise<BodyRead> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > max) return { ok: false, problem: "payload-too-large", detail: `the body is larger than ${max} bytes` };
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.length > max) return { ok: false, problem: "payload-too-large", detail: `the body is larger than ${max} bytes` };
  return { ok: true, bytes };
}
