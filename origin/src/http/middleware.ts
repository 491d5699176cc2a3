import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import {
  IDENTITY_ONLY,
  isWellFormedText,
  JSON_MEDIA_TYPE as JSON_TYPE,
  MALFORMED_UNICODE_MESSAGE,
  parseJsonBody,
  unreadableJsonRepresentation,
} from "@kakunin/shared";
import { ApiError } from "./api-error.ts";

/**
 * 415 for a body that is not JSON, or JSON in a coding or charset it is not read in. A bodiless POST
 * (certify, retire) needs no content type.
 */
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
    // Compressed or non-UTF-8 JSON would fail later as "not valid JSON" (400), or pass unread.
    const unreadable = hasBody ? unreadableJsonRepresentation(c.req.header("content-type"), c.req.header("content-encoding")) : undefined;
    if (unreadable) throw new ApiError("unsupported-media-type", unreadable).withHeader("accept-encoding", IDENTITY_ONLY["accept-encoding"]);
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

/**
 * 422 naming the parameter for a query string value that cannot be stored or compared as sent:
 * percent-encoded bytes that are not UTF-8 (`%ED%A0%80`, a lone surrogate; a lenient decoder
 * makes them U+FFFD) or U+0000. A
 * filter like `?kind=%00` reached PostgreSQL, which refuses NUL in text, and came back a 500.
 * One check for every route, as for bodies.
 */
export const refuseMalformedQuery: MiddlewareHandler = async (c, next) => {
  const q = c.req.url.indexOf("?");
  if (q >= 0) {
    const errors: { path: string; message: string }[] = [];
    for (const pair of c.req.url.slice(q + 1).split("&")) {
      const [name, value] = [pair.split("=")[0]!, pair.slice(pair.indexOf("=") + 1 || pair.length)].map(strictDecode);
      if (name === undefined) errors.push({ path: "(query)", message: MALFORMED_UNICODE_MESSAGE });
      else if (value === undefined) errors.push({ path: name, message: MALFORMED_UNICODE_MESSAGE });
    }
    if (errors.length) throw new ApiError("validation-failed", `${errors.length} query parameter(s) with malformed Unicode`, { errors: errors.slice(0, 50) });
  }
  await next();
};

/** A query component decoded strictly (`+` is a space): undefined when it is not well-formed UTF-8 text. */
function strictDecode(raw: string): string | undefined {
  try {
    const text = decodeURIComponent(raw.replace(/\+/g, " "));
    return isWellFormedText(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      // Answered before the body is read: the server drops the rest of it, and the connection with
      // it. Saying so keeps a pooling client from sending its next request down a dead socket.
      throw new ApiError("payload-too-large", `Request body exceeds the limit of ${maxBytes} bytes.`).withHeader("connection", "close");
    },
  });
}

/** Security headers every JSON API answer carries. */
export const baseHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header("x-content-type-options", "nosniff");
  c.header("cache-control", c.res.headers.get("cache-control") ?? "no-store");
};
