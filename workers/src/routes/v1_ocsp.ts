import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  decodeOcspGetPath, OCSP_MALFORMED_REQUEST, OCSP_TRY_LATER, OCSP_UNAUTHORIZED, parseOcspRequest, type CertStatusRecord,
} from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";
import { cacheControl, rawContent, serve, type EdgeApp } from "../http/openapi.ts";

export const MAX_REQUEST = 8 * 1024;
const OCSP_RESPONSE = "application/ocsp-response";

function der(body: Uint8Array, cache: string): Response {
  return new Response(body, { headers: { "content-type": OCSP_RESPONSE, "cache-control": cache } });
}

/** What an OCSP client gets for a request it should never have sent (RFC 6960 §2.3). */
export const malformedRequest = (): Response => der(OCSP_MALFORMED_REQUEST, "no-store");

function decodeB64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * RFC 6960 responder over pre-signed responses (the origin signs; the edge never holds a key).
 * OCSP-level errors are OCSP responses with HTTP 200, as RFC 5019 clients expect: a malformed
 * request gets malformedRequest, an unknown serial unauthorized, a certificate whose response is
 * not signed yet tryLater.
 */
async function answer(c: Context<EdgeEnv>, request: Uint8Array | undefined): Promise<Response> {
  if (!request || request.byteLength > MAX_REQUEST) return der(OCSP_MALFORMED_REQUEST, "no-store");
  const parsed = parseOcspRequest(request);
  if (!parsed.ok) return der(OCSP_MALFORMED_REQUEST, "no-store");
  // Pre-signed responses cover one certificate; RFC 5019 clients ask for one.
  const first = parsed.value.certIds[0];
  if (!first) return der(OCSP_MALFORMED_REQUEST, "no-store");
  const raw = await c.env.CERT_STATUS.get(`cert:${first.serial}`);
  if (!raw) return der(OCSP_UNAUTHORIZED, "no-store");
  const rec = JSON.parse(raw) as CertStatusRecord;
  if (!rec.ocsp_b64) return der(OCSP_TRY_LATER, "no-store");
  return der(decodeB64(rec.ocsp_b64), rec.status === "revoked" ? "public, max-age=300, no-transform" : "public, max-age=2, no-transform");
}

// OCSP has no HTTP error statuses: every answer, including errors, is a DER OCSPResponse.
const ocspResponses = {
  200: {
    description: "DER OCSPResponse: the pre-signed one for the certificate, or malformedRequest / unauthorized (unknown serial) / tryLater (not signed yet)",
    headers: z.object({ "cache-control": cacheControl }),
    content: rawContent(OCSP_RESPONSE, "DER-encoded OCSPResponse (RFC 6960)"),
  },
};

export const postRoute = createRoute({
  method: "post",
  path: "/v1/ocsp",
  summary: "OCSP (RFC 6960), POST form",
  tags: ["pki"],
  request: { body: { required: true, description: "≤ 8 KiB", content: rawContent("application/ocsp-request", "DER-encoded OCSPRequest") } },
  responses: ocspResponses,
});

export const getRoute = createRoute({
  method: "get",
  path: "/v1/ocsp/{request}",
  summary: "OCSP (RFC 6960), GET form",
  tags: ["pki"],
  request: {
    params: z.object({ request: z.string().openapi({ description: "Base64 of the DER OCSPRequest, URL-encoded or not; may contain '/' (everything after /v1/ocsp/)" }) }),
  },
  responses: ocspResponses,
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
