import type { Context, MiddlewareHandler } from "hono";
import type { ZodType, z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { parseOptionalJson } from "./fail.ts";

/**
 * Reads a JSON body that may be absent (a bare POST means "all defaults"). Present but malformed
 * is 400; present but invalid is 422 with one entry per field, as for required bodies
 * (parseOptionalJson, which the other optional-body routes use on text they already read).
 */
export async function optionalJson<T extends ZodType>(c: Context, schema: T): Promise<z.infer<T> | undefined> {
  return parseOptionalJson(await c.req.text(), schema);
}

/**
 * Route middleware for every route whose JSON body is optional: `content-type: application/json`
 * with an empty (or whitespace) body is no body. curl, fetch wrappers and most SDKs send the header
 * on every POST; without this the OpenAPI validator parses "" and answers 400 malformed-json.
 * The request keeps its other headers; the text read here stays cached for the handler.
 */
export const emptyJsonIsNoBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.header("content-type") !== undefined && (await c.req.text()).trim() === "") {
    const headers = new Headers(c.req.raw.headers);
    headers.delete("content-type");
    headers.delete("content-length");
    c.req.raw = new Request(c.req.raw.url, { method: c.req.raw.method, headers, signal: c.req.raw.signal });
  }
  await next();
};
