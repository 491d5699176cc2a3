import type { NextFunction, Request, RequestHandler, Response } from "express";
import { createGate, maxBodyBytesOf, type GateRequest, type KakuninAgent } from "./gate.ts";
import { assertStaticOptions, targetProblem, resolveChecksOrProblem, type MiddlewareOptions } from "./middleware-options.ts";
import type { BodyRead } from "./possession.ts";
import { gatewayProblem, problemHeaders, type GatewayProblem } from "./problems.ts";

export type { KakuninAgent } from "./gate.ts";
export type KakuninExpressOptions = MiddlewareOptions<Request>;

declare global {
  // Express's own extension point for request properties (declaration merging needs a namespace).
  namespace Express {
    interface Request {
      /** Set by kakunin() once the agent is verified. */
      kakuninAgent?: KakuninAgent;
      /** The exact body bytes, when kakunin() or `keepRawBody` captured them. */
      rawBody?: Uint8Array;
    }
  }
}

/**
 * A body parser `verify` hook that keeps the raw bytes, for mounting kakunin() after a parser:
 * `app.use(express.json({ verify: keepRawBody }))`. The digest is checked over these bytes.
 */
export function keepRawBody(req: Request, _res: Response, buf: Uint8Array): void {
  req.rawBody = buf;
}

/**
 * Express middleware: verifies the agent named by `Kakunin-Agent-Serial` at the edge and, by
 * default, its RFC 9421 signature; refuses with problem+json, otherwise sets `req.kakuninAgent` and
 * `res.locals.kakuninAgent` and calls `next()`.
 */
export function kakunin(options: KakuninExpressOptions): RequestHandler {
  assertStaticOptions(options);
  const gate = createGate(options);
  const maxBody = maxBodyBytesOf(options);
  const send = (res: Response, problem: GatewayProblem): void => {
    res.status(problem.status).set(problemHeaders(problem)).send(JSON.stringify(problem));
  };
  return (req: Request, res: Response, next: NextFunction) => {
    // The raw target against the URL the signature is checked on: Express routes the target as sent.
    const url = requestUrl(req);
    // A target no URL parser accepts (`//[x/…`, a port over 65535) names no path that could be signed.
    if (!url) return send(res, gatewayProblem("path-not-canonical", "the request target is not a valid URL"));
    const rewritten = targetProblem(req.originalUrl, url);
    if (rewritten) return send(res, rewritten);
    const view: GateRequest = {
      method: req.method,
      url,
      header: (name) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(", ") : v;
      },
      body: () => readBody(req, maxBody),
    };
    resolveChecksOrProblem(req, options)
      .then((resolved) => (resolved.ok ? gate(view, resolved.checks) : resolved))
      .then((result) => {
        if (!result.ok) return send(res, result.problem);
        req.kakuninAgent = result.agent;
        res.locals.kakuninAgent = result.agent;
        next();
      }, next);
  };
}

/** Path and query exactly as sent (`originalUrl` survives sub-app mounting); the host only feeds `@authority`. */
function requestUrl(req: Request): URL | undefined {
  try {
    return new URL(req.originalUrl, `http://${req.headers.host ?? "localhost"}`);
  } catch {
    // A Host no URL accepts: the target alone (then refused at @authority). An absolute or
    // scheme-relative target may itself be unparsable: undefined, never a throw (500 and a stack).
    try {
      return new URL(req.originalUrl, "http://localhost");
    } catch {
      return undefined;
    }
  }
}

/**
 * The exact body bytes: kept by `keepRawBody` or `express.raw()`, or read from the stream here (then
 * kept as `req.rawBody`, and JSON bodies parsed into `req.body` since a later parser finds the stream
 * consumed). A body a parser already consumed without keeping the bytes cannot be checked.
 */
async function readBody(req: Request, max: number): Promise<BodyRead> {
  if (req.rawBody) return { ok: true, bytes: req.rawBody };
  if (req.body instanceof Uint8Array) return { ok: true, bytes: req.body };
  if (req.readableEnded) {
    const declared = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
    if (!declared) return { ok: true, bytes: new Uint8Array(0) };
    return { ok: false, problem: "internal-error", detail: "the body was parsed before kakunin() without keeping its bytes: mount kakunin() first or use express.json({ verify: keepRawBody })" };
  }
  if (Number(req.headers["content-length"] ?? "0") > max) return { ok: false, problem: "payload-too-large", detail: `the body is larger than ${max} bytes` };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    size += bytes.length;
    if (size > max) return { ok: false, problem: "payload-too-large", detail: `the body is larger than ${max} bytes` };
    chunks.push(bytes);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  req.rawBody = bytes;
  if (req.body === undefined && bytes.length > 0 && /^application\/([\w.+-]+\+)?json\b/i.test(req.headers["content-type"] ?? "")) {
    try {
      req.body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      // Left unparsed: the digest is about bytes, and the route decides what malformed JSON means.
    }
  }
  return { ok: true, bytes };
}
