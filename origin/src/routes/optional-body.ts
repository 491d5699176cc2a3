import type { Context } from "hono";
import type { ZodType, z } from "zod";
import { parseOptionalJson } from "./fail.ts";

/**
 * Reads a JSON body that may be absent (a bare POST means "all defaults"). Present but malformed
 * is 400; present but invalid is 422 with one entry per field, as for required bodies
 * (parseOptionalJson, which the other optional-body routes use on text they already read).
 */
export async function optionalJson<T extends ZodType>(c: Context, schema: T): Promise<z.infer<T> | undefined> {
  return parseOptionalJson(await c.req.text(), schema);
}
