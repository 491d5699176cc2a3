import type { Context, MiddlewareHandler } from "hono";
import { readCapped } from "@kakunin/verify/rules";
import { edgeProblem } from "./problems.ts";

/** The API's request body limit (design "Conventions": 1 MiB per request; bodies over it → 413). */
export const MAX_REQUEST_BODY = 1024 * 1024;

/**
 * A body declaring a length over the cap but at most this is read to its end before the 413 goes
 * out: a sender cut off mid-body could see its connection reset instead of the answer (wrangler
 * dev's proxy answered 500 with a stack trace). Reading costs wall time, hardly CPU. Larger
 * declared bodies, and bodies that declare no length, are cut off at the cap as before.
 */
const DRAIN_OVERSIZED = 16 * 1024 * 1024;

/** The 413 problem for a body over `max` bytes, the one answer every capped route gives. */
export const payloadTooLarge = (c: Context, max: number): Response => edgeProblem(c, "payload-too-large", `Request body exceeds ${max} bytes.`);

/**
 * Caps a request body whether or not it declares its length. A chunked body (no Content-Length)
 * is read through the cap and the read stops — the stream is cancelled — as soon as it passes
 * `max`: reading it whole and measuring afterwards would let one request fill the isolate's
 * memory (128 MB) before any check ran. The bytes land in Hono's body cache, so the route reads
 * them with `c.req.arrayBuffer()` / `c.req.text()` as before.
 *
 * Mounted in app.ts in front of every route that takes a body — before authentication, so an
 * unauthenticated or unsigned sender is stopped at the cap too (for /internal/* that means before
 * the HMAC check, which needs the whole body).
 */
export interface BodyCap {
  /** An exact path, or a prefix ending in `/`. */
  path: string;
  max: number;
  /** The refusal; default a 413 problem. (OCSP clients expect an OCSP malformedRequest instead, within the API's 1 MiB limit.) */
  tooLarge?: (c: Context) => Response;
}

/**
 * One `*` middleware for every capped path (so the route table stays exactly the documented
 * routes): the first cap whose path matches applies; other paths pass untouched.
 */
export function cappedBodies(caps: readonly BodyCap[]): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    const cap = caps.find((k) => (k.path.endsWith("/") ? path.startsWith(k.path) : path === k.path));
    if (!cap) return next();
    return cappedBody(cap.max, cap.tooLarge)(c, next);
  };
}

export function cappedBody(max: number, refuse?: (c: Context) => Response): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.raw.body === null) return next();
    const tooLarge = () => (refuse ? refuse(c) : payloadTooLarge(c, max));
    // One capped reader with the SDK's middleware (@kakunin/verify/rules): a declared length over
    // the cap is refused before a byte is read; an undeclared one is cut off at the cap.
    const read = await readCapped(c.req.raw.body, max, c.req.header("content-length"), DRAIN_OVERSIZED);
    if (!read.ok) return tooLarge();
    const bytes = read.bytes;
    cache(c).arrayBuffer = Promise.resolve(bytes.buffer as ArrayBuffer);
    return next();
  };
}

/** Hono types its body cache as values but stores promises (hono/dist/request.js #cachedBody). */
function cache(c: Context): { arrayBuffer?: Promise<ArrayBuffer> } {
  return c.req.bodyCache as { arrayBuffer?: Promise<ArrayBuffer> };
}
