import type { Context, Hono } from "hono";
import {
  decodeOcspGetPath, OCSP_MALFORMED_REQUEST, OCSP_TRY_LATER, OCSP_UNAUTHORIZED, parseOcspRequest, type CertStatusRecord,
} from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";

const MAX_REQUEST = 8 * 1024;
const OCSP_RESPONSE = "application/ocsp-response";

function der(body: Uint8Array, cache: string): Response {
  return new Response(body, { headers: { "content-type": OCSP_RESPONSE, "cache-control": cache } });
}

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

export function register(app: Hono<EdgeEnv>): void {
  app.post("/v1/ocsp", async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/ocsp-request") return der(OCSP_MALFORMED_REQUEST, "no-store");
    const body = new Uint8Array(await c.req.arrayBuffer());
    return answer(c, body);
  });
  // GET form: base64 of the DER request as one path segment (may contain '/', so take the rest).
  app.get("/v1/ocsp/*", (c) => {
    const rest = new URL(c.req.url).pathname.slice("/v1/ocsp/".length);
    return answer(c, decodeOcspGetPath(rest));
  });
}
