import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { ApiError } from "../http/api-error.ts";
import { uploadRootCrl } from "../lifecycle/upload-root-crl.ts";
import { rfc3339 } from "../time.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, jsonBody } from "./openapi.ts";

export const rootCrlRequest = z.strictObject({
  /** The root's CRL signed offline: PEM (`-----BEGIN X509 CRL-----`) or standard base64 of the DER. */
  crl: z
    .string()
    .min(1)
    .max(1024 * 1024),
});

const rootCrlView = z.object({ crl_number: z.string(), this_update: z.string(), next_update: z.string() });

export const route = createRoute({
  method: "post",
  path: "/v1/admin/ca/root/crl",
  summary: "Offline root: upload the root's CRL (ARL) signed offline; forwarded to the edge at /v1/crl/root",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { body: jsonBody(rootCrlRequest) },
  responses: {
    201: dataResponse(rootCrlView, "Stored and queued for the edge"),
    200: dataResponse(rootCrlView, "The same CRL was uploaded before"),
    ...errorResponses(409, 422, 503),
  },
});

function derOf(text: string): Uint8Array {
  const pem = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
  const b64 = (pem ? pem[1]! : text).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new ApiError("invalid-crl", "crl is neither PEM nor base64 DER");
  return new Uint8Array(Buffer.from(b64, "base64"));
}

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    // The root serves every tenant: only the operator tenant's admins may replace its CRL.
    if (!c.var.caller.isOperator) throw new ApiError("forbidden", "Only admins of the operator tenant may upload the root's CRL.");
    const { crl } = c.req.valid("json");
    const r = orThrow(await uploadRootCrl(c.var.services, derOf(crl), apiKeyActor(c.var.caller)));
    const data = { crl_number: r.crl.crlNumber.toString(), this_update: rfc3339(r.crl.thisUpdate), next_update: rfc3339(r.crl.nextUpdate) };
    return c.json({ data }, r.replayed ? 200 : 201);
  });
}
