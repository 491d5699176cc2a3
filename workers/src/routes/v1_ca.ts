import type { Context, Hono } from "hono";
import type { CrlRecord } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";
import { edgeProblem } from "../http/problems.ts";

const TENANT = /^([0-9a-f-]{36}|default)$/;

async function crlRecord(env: Env, tenant: string): Promise<CrlRecord | undefined> {
  const raw = await env.CERT_STATUS.get(`crl:${tenant}`);
  return raw ? (JSON.parse(raw) as CrlRecord) : undefined;
}

function decodeB64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** CA chain (PEM) and CRL (DER) for standard tooling; `default` is the operator tenant. */
export function register(app: Hono<EdgeEnv>): void {
  const crl = async (c: Context<EdgeEnv>, tenant: string) => {
    if (!TENANT.test(tenant)) return edgeProblem(c, "not-found", `No tenant ${tenant}.`);
    const rec = await crlRecord(c.env, tenant);
    if (!rec) return edgeProblem(c, "not-found", `No CRL published for tenant ${tenant}.`);
    return new Response(decodeB64(rec.crl_b64), {
      headers: { "content-type": "application/pkix-crl", "cache-control": "public, max-age=60", "last-modified": new Date(rec.this_update).toUTCString() },
    });
  };
  app.get("/v1/crl", (c) => crl(c, "default"));
  app.get("/v1/crl/:tenant", (c) => crl(c, c.req.param("tenant")));

  const chain = async (c: Context<EdgeEnv>, tenant: string) => {
    if (!TENANT.test(tenant)) return edgeProblem(c, "not-found", `No tenant ${tenant}.`);
    const rec = await crlRecord(c.env, tenant);
    if (!rec) return edgeProblem(c, "not-found", `No CA published for tenant ${tenant}.`);
    return new Response(rec.chain_pem, { headers: { "content-type": "application/pem-certificate-chain", "cache-control": "public, max-age=3600" } });
  };
  app.get("/v1/ca", (c) => chain(c, "default"));
  app.get("/v1/ca/:tenant", (c) => chain(c, c.req.param("tenant")));
}
