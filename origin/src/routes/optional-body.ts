import type { Context } from "hono";
import type { ZodType, z } from "zod";
import { ApiError } from "../http/api-error.ts";

/**
 * Reads a JSON body that may be absent (a bare POST means "all defaults"). Present but malformed
 * is 400; present but invalid is 422 with one entry per field, as for required bodies.
 */
export async function optionalJson<T extends ZodType>(c: Context, schema: T): Promise<z.infer<T> | undefined> {
  const raw = await c.req.text();
  if (raw.trim() === "") return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ApiError("malformed-json", "The request body is not valid JSON.");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError("validation-failed", `${parsed.error.issues.length} invalid field(s) in the request body`, {
      errors: parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(body)", message: i.message })),
    });
  }
  return parsed.data as z.infer<T>;
}
