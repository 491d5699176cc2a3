import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { decodeOcspGetPath, OCSP_MALFORMED_REQUEST, OCSP_TRY_LATER, OCSP_UNAUTHORIZED } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";
import { notModified } from "../http/conditional.ts";
import { MAX_REQUEST_BODY, payloadTooLarge } from "../http/capped-body.ts";
import { cacheControl, problemResponses, rawContent, serve, type EdgeApp } from "../http/openapi.ts";
import { answers, cacheHeaders, goodPastOverlap, preparedResponse, requestedCertId } from "../ocsp/prepared.ts";
import { StoreUnavailable } from "../http/store-unavailable.ts";

export const MAX_REQUEST = 8 * 1024;
const OCSP_RESPONSE = "application/ocsp-response";

function der(body: Uint8Array, cache: string | Record<string, string>): Response {
  const headers = typeof cache === "string" ? { "cache-control": cache } : cache;
  return new Response(body, { headers: { "content-type": OCSP_RESPONSE, ...headers } });
}

/** What an OCSP client gets for a request it should never have sent (RFC 6960 §2.3). */
export const malformedRequest = (): Response => der(OCSP_MALFORMED_REQUEST, "no-store");

/**
 * The cap's refusal (app.ts reads at most MAX_REQUEST): a body that declares more than the API's
 * request limit (1 MiB, design "Conventions") is the 413 problem every other route answers for
 * it; one within that limit, or an undeclared one past 8 KiB (reading on to learn its size is
 * what the cap is there to prevent), is an OCSP malformedRequest, which OCSP clients understand.
 */
export function tooLarge(c: Context): Response {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_REQUEST_BODY) return payloadTooLarge(c, MAX_REQUEST_BODY);
  return malformedRequest();
}

/**
 * RFC 6960 responder over pre-signed responses (the origin signs; the edge never holds a key).
 * OCSP-level errors are OCSP responses with HTTP 200, as RFC 5019 clients expect: a malformed
 * request gets malformedRequest, an unknown serial unauthorized, a certificate whose response is
 * not signed yet tryLater, and a CertID the signed response does not carry (the serial under
 * another issuer's name or key, or hashed with another algorithm) unauthorized (RFC 5019 §2.2.3), and a renewed
 * predecessor's "good" once its overlap ended tryLater (prepared.ts, goodPastOverlap). A signed response carries the RFC 5019 §6.2 caching headers, and a
 * GET whose If-None-Match names its ETag gets 304.
 */
async function answer(c: Context<EdgeEnv>, request: Uint8Array | undefined): Promise<Response> {
  if (!request || request.byteLength > MAX_REQUEST) return der(OCSP_MALFORMED_REQUEST, "no-store");
  const now = Date.now();
  const certId = requestedCertId(request, now);
  if (certId === null) return der(OCSP_MALFORMED_REQUEST, "no-store");
  let p: Awaited<ReturnType<typeof preparedResponse>>;
  try {
    p = await preparedResponse(c.env, certId.serial, certId.hashAlgorithm, now);
  } catch (e) {
    // OCSP has no HTTP error statuses: a store that did not answer is tryLater (RFC 6960 §2.3).
    if (!(e instanceof StoreUnavailable)) throw e;
    console.error("[edge] store did not answer", { request_id: c.var.requestId, store: e.store }, e.cause);
    return der(OCSP_TRY_LATER, "no-store");
  }
  if (p.kind === "unknown") return der(OCSP_UNAUTHORIZED, "no-store");
  if (p.kind === "unsigned") return der(OCSP_TRY_LATER, "no-store");
  if (!answers(p, certId)) return der(OCSP_UNAUTHORIZED, "no-store");
  // A renewed predecessor's "good" past its overlap: not good any more, not re-signed yet.
  if (goodPastOverlap(p, now)) return der(OCSP_TRY_LATER, "no-store");
  const headers = cacheHeaders(p, now);
  // If-None-Match only: Last-Modified has whole seconds, and a response re-signed as revoked within
  // the second of the last one would hide behind an If-Modified-Since date comparison.
  if (c.req.method === "GET" && notModified(c.req.raw.headers, p.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return der(p.der, headers);
}

// OCSP has no HTTP error statuses: every answer, including errors, is a DER OCSPResponse.
const ocspResponses = {
  200: {
    description: "DER OCSPResponse: the pre-signed one for the certificate (with RFC 5019 §6.2 caching headers), or malformedRequest / unauthorized (unknown serial, or a CertID of another issuer) / tryLater (not signed yet)",
    headers: z.object({
      "cache-control": cacheControl,
      etag: z.string().optional().openapi({ description: "Signed responses: a digest of the response (If-None-Match → 304 on GET)" }),
      "last-modified": z.string().optional().openapi({ description: "Signed responses: the response's thisUpdate" }),
      expires: z.string().optional().openapi({ description: "Signed responses: when max-age runs out (never after nextUpdate)" }),
    }),
    content: rawContent(OCSP_RESPONSE, "DER-encoded OCSPResponse (RFC 6960)"),
  },
};

export const postRoute = createRoute({
  method: "post",
  path: "/v1/ocsp",
  summary: "OCSP (RFC 6960), POST form",
  tags: ["pki"],
  request: { body: { required: true, description: "≤ 8 KiB", content: rawContent("application/ocsp-request", "DER-encoded OCSPRequest") } },
  responses: { ...ocspResponses, ...problemResponses({ 413: "A declared Content-Length over 1 MiB (the API's request limit); a body over 8 KiB within it is an OCSP malformedRequest" }) },
});

export const getRoute = createRoute({
  method: "get",
  path: "/v1/ocsp/{request}",
  summary: "OCSP (RFC 6960), GET form",
  tags: ["pki"],
  request: {
    params: z.object({ request: z.string().openapi({ description: "Base64 of the DER OCSPRequest, URL-encoded or not; may contain '/' (everything after /v1/ocsp/)" }) }),
  },
  responses: {
    ...ocspResponses,
    304: { description: "If-None-Match named the response's ETag: not modified", headers: z.object({ "cache-control": cacheControl, etag: z.string() }) },
  },
});

export function register(app: EdgeApp): void {
  serve(app, postRoute, async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/ocsp-request") return der(OCSP_MALFORMED_REQUEST, "no-store");
    const body = new Uint8Array(await c.req.arrayBuffer());
    return answer(c, body);
  });
  // GET form: base64 of the DER request as one path segment (may contain '/', so take the rest).
  serve(app, getRoute, (c) => {
    const rest = new URL(c.req.url).pathname.slice("/v1/ocsp/".length);
    return answer(c, decodeOcspGetPath(rest));
  }, "/v1/ocsp/*");
}
