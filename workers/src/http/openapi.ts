import { z, type OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { Handler } from "hono";
import { PROBLEM_CONTENT_TYPE } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";

export type EdgeApp = OpenAPIHono<EdgeEnv>;

/** RFC 9457 body, as `edgeProblem` writes it; one component for every error response. */
export const problemSchema = z
  .object({
    type: z.string().openapi({ example: "urn:kakunin:problem:not-found" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional().openapi({ description: "422 only: each failing field" }),
  })
  .openapi("Problem");

const ERROR_TEXT: Record<number, string> = {
  400: "Malformed request",
  401: "Missing, invalid or expired credentials",
  403: "The credentials may not do this",
  404: "Not found",
  413: "Body over the size limit",
  415: "Body is not application/json",
  422: "Validation failed; `errors` lists each field",
  500: "Misconfigured edge (e.g. no KAKUNIN_EDGE_SECRET)",
  503: "Not available at this edge yet; retry",
};

type Headers = Record<string, z.ZodType<string>>;
type ProblemSpec = string | { description?: string; headers?: Headers };

/** A 503 of a route that reads the edge's stores (http/store-unavailable.ts). */
export const STORE_UNAVAILABLE: ProblemSpec = {
  description: "This edge's status store (KV or the status ledger) did not answer, e.g. a Durable Object reset by a deploy (edge-store-unavailable): retry after Retry-After",
  headers: { "retry-after": z.string() },
};

/** Problem responses for the given statuses; a string replaces the default description. */
export function problemResponses(codes: Record<number, ProblemSpec>) {
  const out: Record<number, { description: string; headers?: z.ZodObject; content: Record<string, { schema: typeof problemSchema }> }> = {};
  for (const [key, spec] of Object.entries(codes)) {
    const code = Number(key);
    const v = typeof spec === "string" ? { description: spec } : spec;
    out[code] = {
      description: v.description ?? ERROR_TEXT[code] ?? "Error",
      ...(v.headers ? { headers: z.object(v.headers) } : {}),
      content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
    };
  }
  return out;
}

/** `{"data": T}`, the success envelope. */
export function dataResponse<T extends z.ZodType>(schema: T, description: string, headers?: Headers) {
  return { description, ...(headers ? { headers: z.object(headers) } : {}), content: { "application/json": { schema: z.object({ data: schema }) } } };
}

/** A raw (non-JSON) body such as DER or PEM. */
export function rawContent(mediaType: string, description: string) {
  return { [mediaType]: { schema: z.string().openapi({ description }) } };
}

export const cacheControl = z.string().openapi({ description: "How long a gateway may cache this answer" });

/** Security requirement names; the schemes themselves are in `../openapi/document.ts`. */
export const INGEST_TOKEN = [{ ingestToken: [] }];
export const SIGNED_INTERNAL = [{ signedInternal: [] }];

/**
 * Documents `route` and serves `handler` at the same method and path. Handlers keep their own
 * validation (auth before body checks, 400 vs 422, cache headers), so the zod schemas here describe
 * the contract without changing what the edge answers. `routingPath` is for the rare route whose
 * Hono pattern has no OpenAPI spelling (a trailing wildcard).
 */
export function serve<R extends RouteConfig & { getRoutingPath(): string }>(
  app: EdgeApp,
  route: R,
  handler: Handler<EdgeEnv, ReturnType<R["getRoutingPath"]>>,
  routingPath?: string,
): void {
  app.openAPIRegistry.registerPath(route);
  app.on(route.method.toUpperCase(), routingPath ?? route.getRoutingPath(), handler);
}
