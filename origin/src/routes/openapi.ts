import { z } from "@hono/zod-openapi";
import type { ZodType } from "zod";
import { PROBLEM_CONTENT_TYPE } from "@kakunin/shared";

/** RFC 9457 body, documented once for every error response. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

const ERROR_TEXT: Record<number, string> = {
  400: "Malformed request (e.g. invalid JSON)",
  401: "Missing or invalid API key",
  403: "The key's role may not do this",
  404: "Not found, or not in the caller's tenant",
  409: "Conflicts with the current state",
  413: "Body over the size limit",
  415: "Body is not application/json",
  422: "Validation failed; `errors` lists each field",
  503: "Key management not configured or unavailable",
};

export function errorResponses(...codes: number[]) {
  const out: Record<number, { description: string; content: Record<string, { schema: typeof problemSchema }> }> = {};
  for (const code of [400, 401, 403, 413, 415, ...codes]) {
    out[code] = { description: ERROR_TEXT[code] ?? "Error", content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } };
  }
  return out;
}

/** `{"data": T}`, the success envelope. */
export function dataResponse<T extends ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema: z.object({ data: schema }) } } };
}

export function jsonBody<T extends ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

/**
 * A UUID the caller sends: any case on input (RFC 9562 §4), lower case from here on. The database
 * compares UUIDs case-blind, but audit entries and responses carry the id as a string: an id kept
 * as typed began a second per-agent chain under another spelling, and the agent's evidence never
 * verified again.
 */
export const uuidInput = () => z.uuid().toLowerCase();

export const idParams = z.object({ id: uuidInput() });
export const bearer = [{ bearerAuth: [] }];
