import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { EdgeEnv } from "../app-env.ts";
import { cacheControl, problemResponses, rawContent, serve, STORE_UNAVAILABLE, type EdgeApp } from "../http/openapi.ts";
import { notModified } from "../http/conditional.ts";
import { pkiRecord, type PkiBody } from "../http/pki-cache.ts";
import { edgeProblem } from "../http/problems.ts";

/** A tenant id, `default` (the operator tenant) or, for CRLs, `root` (the root's CRL of issuing CAs). */
const TENANT = /^([0-9a-f-]{36}|default)$/;
const CRL_ISSUER = /^([0-9a-f-]{36}|default|root)(:[0-9a-f]{1,40}(:(0|[1-9][0-9]{0,8}))?)?$/;
const ISSUER = /^[0-9a-f]{1,40}$/;
const PARTITION = /^(0|[1-9][0-9]{0,8})$/;

// Parsed, decoded and hashed once per isolate and cache period, not per request (pki-cache.ts).
const crlRecord = (env: Env, tenant: string) => pkiRecord(env, `crl:${tenant}`);

function decodeB64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const tenantParams = z.object({ tenant: z.string().openapi({ description: "Tenant id (UUID), or `default` for the operator tenant" }) });

const crlEtag = z.string().openapi({ description: "Strong validator: a digest of the DER (If-None-Match → 304)" });
const crlResponses = {
  200: {
    description: "The tenant's current CRL (re-signed on every revocation and every 12 h)",
    headers: z.object({
      "cache-control": cacheControl,
      etag: crlEtag,
      "last-modified": z.string().openapi({ description: "thisUpdate of the CRL (informational: revalidate with If-None-Match; a date would hide a CRL re-signed within the same second)" }),
    }),
    content: rawContent("application/pkix-crl", "DER-encoded X.509 CRL (RFC 5280)"),
  },
  304: {
    description: "If-None-Match named the CRL's ETag: not modified, no body",
    headers: z.object({ "cache-control": cacheControl, etag: crlEtag }),
  },
  ...problemResponses({ 404: "Not a tenant, or no CRL published for it yet", 503: STORE_UNAVAILABLE }),
};

const caEtag = z.string().openapi({ description: "Strong validator: a digest of the body (If-None-Match → 304)" });
const caNotModified = {
  description: "If-None-Match named the current ETag: not modified, no body",
  headers: z.object({ "cache-control": cacheControl, etag: caEtag }),
};

const chainResponses = {
  200: {
    description: "The tenant's CA chain: issuing CA, then root",
    headers: z.object({ "cache-control": cacheControl, etag: caEtag }),
    content: rawContent("application/pem-certificate-chain", "PEM certificates (RFC 8555 §9.1)"),
  },
  304: caNotModified,
  ...problemResponses({ 404: "Not a tenant, or no CA published for it yet", 503: STORE_UNAVAILABLE }),
};

const pki = { tags: ["pki"] };
export const crlDefaultRoute = createRoute({ ...pki, method: "get", path: "/v1/crl", summary: "CRL of the operator (`default`) tenant", responses: crlResponses });
export const crlRoute = createRoute({ ...pki, method: "get", path: "/v1/crl/{tenant}", summary: "CRL of a tenant", request: { params: tenantParams }, responses: crlResponses });
export const chainDefaultRoute = createRoute({ ...pki, method: "get", path: "/v1/ca", summary: "CA chain of the operator (`default`) tenant", responses: chainResponses });
export const chainRoute = createRoute({ ...pki, method: "get", path: "/v1/ca/{tenant}", summary: "CA chain of a tenant", request: { params: tenantParams }, responses: chainResponses });

const issuerParams = z.object({
  tenant: z.string().openapi({
    description: "Tenant id (UUID), as in the certificates' AIA and CRL Distribution Point URLs; `default` (the operator tenant) only in /v1/ca/default/root (issuing CAs are published under the tenant's id)",
  }),
  issuer: z.string().openapi({ description: "Serial (hex) of one of the tenant's issuing CAs, or `root` (on /v1/ca only)" }),
});
export const crlIssuerRoute = createRoute({
  ...pki, method: "get", path: "/v1/crl/{tenant}/{issuer}", summary: "CRL of one issuing CA of a tenant: the CRL Distribution Point of agent certificates",
  request: { params: issuerParams }, responses: crlResponses,
});
const partitionParams = issuerParams.extend({
  partition: z.string().openapi({ description: "CRL partition number (decimal), as named by the certificate's CRL Distribution Point" }),
});
export const crlPartitionRoute = createRoute({
  ...pki, method: "get", path: "/v1/crl/{tenant}/{issuer}/{partition}",
  summary: "One partition of an issuing CA's CRL (RFC 5280 Issuing Distribution Point): the CRL Distribution Point of the agent certificates in it",
  request: { params: partitionParams }, responses: crlResponses,
});
export const certRoute = createRoute({
  ...pki, method: "get", path: "/v1/ca/{tenant}/{issuer}",
  summary: "One CA certificate (DER): an issuing CA by serial (AIA caIssuers of agent certificates) or `root` (of issuing-CA certificates)",
  request: { params: issuerParams },
  responses: {
    200: {
      description: "The certificate",
      headers: z.object({ "cache-control": cacheControl, etag: caEtag }),
      content: rawContent("application/pkix-cert", "One DER-encoded certificate (RFC 2585), as AIA caIssuers requires (RFC 5280 §4.2.2.1)"),
    },
    304: caNotModified,
    ...problemResponses({ 404: "Not a tenant or issuer, or nothing published for it yet", 503: STORE_UNAVAILABLE }),
  },
});

/** The DER of each certificate of a PEM chain, in order. */
function pemToDer(pem: string): Uint8Array[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => decodeB64(b.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, "")));
}

/**
 * A CA chain, CA certificate or CRL, revalidated by If-None-Match: every relying party that builds
 * a path fetches them and every cache polls the CRL, and they change only at a rollover or a
 * re-signing, so a revalidation costs no body. `maxAgeS` and `headers` are the 200's own.
 */
async function pkiAnswer(c: Context<EdgeEnv>, prepared: Promise<PkiBody>, contentType: string, maxAgeS: number, headers: Record<string, string> = {}): Promise<Response> {
  const { body, etag } = await prepared;
  const validators = { "cache-control": `public, max-age=${maxAgeS}`, etag };
  if (notModified(c.req.raw.headers, validators.etag)) return new Response(null, { status: 304, headers: validators });
  return new Response(body, { headers: { "content-type": contentType, ...validators, ...headers } });
}

/** CA chain (PEM) and CRL (DER) for standard tooling; `default` is the operator tenant. */
export function register(app: EdgeApp): void {
  const crl = async (c: Context<EdgeEnv>, tenant: string) => {
    if (!CRL_ISSUER.test(tenant)) return edgeProblem(c, "not-found", `No tenant ${tenant}.`);
    const rec = await crlRecord(c.env, tenant);
    if (!rec) return edgeProblem(c, "not-found", `No CRL published for tenant ${tenant}.`);
    return pkiAnswer(c, rec.body("crl", (r) => decodeB64(r.crl_b64))!, "application/pkix-crl", 60, { "last-modified": new Date(rec.rec.this_update).toUTCString() });
  };
  serve(app, crlDefaultRoute, (c) => crl(c, "default"));
  serve(app, crlRoute, (c) => crl(c, c.req.param("tenant")));

  const chain = async (c: Context<EdgeEnv>, tenant: string) => {
    if (!TENANT.test(tenant)) return edgeProblem(c, "not-found", `No tenant ${tenant}.`);
    const rec = await crlRecord(c.env, tenant);
    if (!rec) return edgeProblem(c, "not-found", `No CA published for tenant ${tenant}.`);
    return pkiAnswer(c, rec.body("chain", (r) => new TextEncoder().encode(r.chain_pem))!, "application/pem-certificate-chain", 3600);
  };
  serve(app, chainDefaultRoute, (c) => chain(c, "default"));
  serve(app, chainRoute, (c) => chain(c, c.req.param("tenant")));

  serve(app, crlIssuerRoute, (c) => {
    const { tenant, issuer } = c.req.param();
    if (!TENANT.test(tenant) || !ISSUER.test(issuer)) return edgeProblem(c, "not-found", `No issuer ${issuer} of tenant ${tenant}.`);
    return crl(c, `${tenant}:${issuer}`);
  });

  serve(app, crlPartitionRoute, (c) => {
    const { tenant, issuer, partition } = c.req.param();
    if (!TENANT.test(tenant) || !ISSUER.test(issuer) || !PARTITION.test(partition)) return edgeProblem(c, "not-found", `No CRL partition ${partition} of issuer ${issuer} of tenant ${tenant}.`);
    return crl(c, `${tenant}:${issuer}:${partition}`);
  });

  // A per-issuer record's chain is [that issuing CA, root]: caIssuers wants one DER certificate.
  serve(app, certRoute, async (c) => {
    const { tenant, issuer } = c.req.param();
    if (!TENANT.test(tenant) || !(issuer === "root" || ISSUER.test(issuer))) return edgeProblem(c, "not-found", `No issuer ${issuer} of tenant ${tenant}.`);
    const rec = await crlRecord(c.env, issuer === "root" ? tenant : `${tenant}:${issuer}`);
    const der = rec?.body(issuer === "root" ? "cert:last" : "cert:first", (r) => {
      const ders = pemToDer(r.chain_pem);
      return ders.length < 2 ? undefined : issuer === "root" ? ders[ders.length - 1] : ders[0];
    });
    if (!der) return edgeProblem(c, "not-found", `No CA ${issuer} published for tenant ${tenant}.`);
    return pkiAnswer(c, der, "application/pkix-cert", 3600);
  });
}
