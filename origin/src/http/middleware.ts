import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseJsonBody } from "@kakunin/shared";
import { ApiError } from "./api-error.ts";

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** 415 for a body that is not JSON. A bodiless POST (certify, retire) needs no content type. */
export const requireJsonBody: MiddlewareHandler = async (c, next) => {
  const m = c.req.method;
  if (m === "POST" || m === "PUT" || m === "PATCH") {
    const length = c.req.header("content-length");
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
    // A declared non-JSON type is refused outright; an undeclared one only when a body is present.
    const hasBody = type !== "" || (length !== undefined && length !== "0") || c.req.header("transfer-encoding") !== undefined;
    if (hasBody && !JSON_TYPE.test(type)) {
      throw new ApiError("unsupported-media-type", `Expected application/json, got ${type || "no content type"}.`);
    }
  }
  await next();
};

/**
 * 422 naming the field for user text that cannot be stored as sent: bytes that are not UTF-8 and
 * escaped lone surrogates (or U+0000), in any JSON body of any route, and for nesting deeper than
 * MAX_JSON_DEPTH (it would overflow the stack of whatever walks the body next). One check for every schema,
 * so no route can forget it. Internal routes are skipped: their signature is verified over the raw
 * body first, and the shared wire schemas apply the same refinement.
 */
export const refuseMalformedUnicode: MiddlewareHandler = async (c, next) => {
  const m = c.req.method;
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
  if ((m === "POST" || m === "PUT" || m === "PATCH") && JSON_TYPE.test(type) && !c.req.path.startsWith("/internal/")) {
    // Read through HonoRequest so the body is cached for the route's validator.
    const r = parseJsonBody(new Uint8Array(await c.req.arrayBuffer()));
    if (!r.ok && r.reason === "refused-fields") throw new ApiError("validation-failed", r.detail, { errors: r.errors });
  }
  await next();
};

export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError("payload-too-large", `Request body exceeds the limit of ${maxBytes} bytes.`);
    },
  });
}

/** Security headers every JSON API answer carries. */
export const baseHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header("x-content-type-options", "nosniff");
  c.header("cache-control", c.res.headers.get("cache-control") ?? "no-store");
};
