import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { OCSP_MALFORMED_REQUEST, OCSP_TRY_LATER, OCSP_UNAUTHORIZED } from "@kakunin/shared";
import { agentRec, certRec, publish } from "./fixtures.ts";
import { B_REQUEST_SHA1_B64, B_RESPONSE_B64, B_SERIAL } from "./ocsp-fixtures.ts";

afterEach(async () => { await reset(); });

// A minimal OCSPRequest for serial 0x4d2 (1234): SEQ{ SEQ{ SEQ{ SEQ{ SEQ{ SEQ{sha1,NULL}, OCTET(20), OCTET(20), INTEGER } } } } }
function ocspRequest(serialHex: string): Uint8Array {
  const enc = (tag: number, body: number[]): number[] => {
    const len = body.length < 128 ? [body.length] : [0x81, body.length];
    return [tag, ...len, ...body];
  };
  const serial = serialHex.match(/../g)!.map((h) => parseInt(h, 16));
  const alg = enc(0x30, [...enc(0x06, [0x2b, 0x0e, 0x03, 0x02, 0x1a]), 0x05, 0x00]);
  const certId = enc(0x30, [...alg, ...enc(0x04, new Array(20).fill(1)), ...enc(0x04, new Array(20).fill(2)), ...enc(0x02, serial)]);
  return new Uint8Array(enc(0x30, enc(0x30, enc(0x30, enc(0x30, certId)))));
}

const post = (body: Uint8Array, type = "application/ocsp-request") =>
  exports.default.fetch("http://edge/v1/ocsp", { method: "POST", headers: { "content-type": type }, body });
const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());

describe("OCSP responder", () => {
  // A real pre-signed response and a request with its issuer's CertID: the responder answers a
  // CertID the response carries, not any request naming the serial (ocsp-issuer.test.ts).
  const presigned = Uint8Array.from(atob(B_RESPONSE_B64), (c) => c.charCodeAt(0));
  const request = Uint8Array.from(atob(B_REQUEST_SHA1_B64), (c) => c.charCodeAt(0));

  it("serves the pre-signed response for a known serial", async () => {
    await publish([certRec({ serial_number: B_SERIAL, ocsp_b64: B_RESPONSE_B64 })]);
    const r = await post(request);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/ocsp-response");
    expect(await bytes(r)).toEqual(presigned);
  });

  it("GET form (base64 path segment, with '/' and '+' left unencoded) finds the same response", async () => {
    await publish([certRec({ serial_number: B_SERIAL, ocsp_b64: B_RESPONSE_B64 })]);
    expect(B_REQUEST_SHA1_B64).toMatch(/\/.*\+|\+.*\//);
    const r = await exports.default.fetch(`http://edge/v1/ocsp/${B_REQUEST_SHA1_B64}`);
    expect(await bytes(r)).toEqual(presigned);
  });

  it("unknown serial → unauthorized; unsigned yet → tryLater; garbage or wrong type → malformedRequest", async () => {
    expect(await bytes(await post(ocspRequest("4d2")))).toEqual(OCSP_UNAUTHORIZED);
    const rec = certRec({ ocsp_b64: null });
    await publish([rec]);
    expect(await bytes(await post(ocspRequest(rec.serial_number)))).toEqual(OCSP_TRY_LATER);
    expect(await bytes(await post(new Uint8Array([1, 2, 3])))).toEqual(OCSP_MALFORMED_REQUEST);
    expect(await bytes(await post(ocspRequest("4d2"), "text/plain"))).toEqual(OCSP_MALFORMED_REQUEST);
    expect(await bytes(await post(new Uint8Array(9000)))).toEqual(OCSP_MALFORMED_REQUEST);
    expect(await bytes(await exports.default.fetch("http://edge/v1/ocsp/%%%"))).toEqual(OCSP_MALFORMED_REQUEST);
  });
});

describe("CRL, CA chain and DID", () => {
  it("404 problems before anything is published, and for malformed tenants", async () => {
    for (const path of ["/v1/crl", "/v1/ca", "/v1/crl/not-a-tenant", `/v1/agents/${crypto.randomUUID()}/did.json`, "/v1/did/did:web:example.com"]) {
      const r = await exports.default.fetch(`http://edge${path}`);
      expect(r.status, path).toBe(404);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  it("serves the published CRL as DER and the chain as PEM", async () => {
    await publish([{ kind: "crl", v: 5, tenant_id: "default", crl_b64: btoa("CRLDER"), this_update: new Date().toISOString(), next_update: new Date().toISOString(), chain_pem: "PEMCHAIN" }]);
    const crl = await exports.default.fetch("http://edge/v1/crl");
    expect(crl.headers.get("content-type")).toBe("application/pkix-crl");
    expect(new TextDecoder().decode(await bytes(crl))).toBe("CRLDER");
    expect(await (await exports.default.fetch("http://edge/v1/ca")).text()).toBe("PEMCHAIN");
  });

  it("per issuing CA: its CRL (CDP) and its certificate and the root as single DER certificates (AIA caIssuers, RFC 5280 §4.2.2.1)", async () => {
    const tenant = crypto.randomUUID();
    const [oldIssuer, newIssuer] = ["a1".repeat(16), "b2".repeat(16)];
    const der = (tag: string) => new TextEncoder().encode(`DER-${tag}`);
    const pem = (tag: string) => `-----BEGIN CERTIFICATE-----\n${btoa(String.fromCharCode(...der(tag)))}\n-----END CERTIFICATE-----\n`;
    const rec = (issuer: string | undefined, tag: string) => ({
      kind: "crl" as const, v: 1, tenant_id: tenant, ...(issuer ? { issuer_serial: issuer } : {}), crl_b64: btoa(`CRL-${tag}`),
      this_update: new Date().toISOString(), next_update: new Date().toISOString(), chain_pem: pem(tag) + pem("ROOT"),
    });
    expect((await publish([rec(oldIssuer, "OLD"), rec(newIssuer, "NEW"), rec(undefined, "NEW")])).status).toBe(200);
    const text = async (path: string) => new TextDecoder().decode(await bytes(await exports.default.fetch(`http://edge${path}`)));
    for (const [issuer, tag] of [[oldIssuer, "OLD"], [newIssuer, "NEW"], ["root", "ROOT"]] as const) {
      const r = await exports.default.fetch(`http://edge/v1/ca/${tenant}/${issuer}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("application/pkix-cert");
      expect(new TextDecoder().decode(await bytes(r))).toBe(`DER-${tag}`);
    }
    expect(await text(`/v1/crl/${tenant}/${oldIssuer}`)).toBe("CRL-OLD");
    expect(await text(`/v1/crl/${tenant}/${newIssuer}`)).toBe("CRL-NEW");
    expect(await text(`/v1/crl/${tenant}`)).toBe("CRL-NEW");
    for (const path of [`/v1/ca/${crypto.randomUUID()}/root`, `/v1/ca/${tenant}/${"c3".repeat(16)}`, `/v1/ca/${tenant}/NOPE`, `/v1/crl/${tenant}/${"c3".repeat(16)}`, `/v1/crl/${tenant}/root`, "/v1/ca/nope/root"]) {
      const r = await exports.default.fetch(`http://edge${path}`);
      expect(r.status, path).toBe(404);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  it("the root's CRL (ARL) is published and served at /v1/crl/root", async () => {
    const pub = await publish([{ kind: "crl", v: 1, tenant_id: "root", crl_b64: btoa("ARL"), this_update: new Date().toISOString(), next_update: new Date().toISOString(), chain_pem: "ROOTPEM" }]);
    expect(pub.status).toBe(200);
    const r = await exports.default.fetch("http://edge/v1/crl/root");
    expect(r.status).toBe(200);
    expect(new TextDecoder().decode(await bytes(r))).toBe("ARL");
  });

  it("a DID without an active certificate is deactivated", async () => {
    const agent = agentRec({ status: "suspended", current_serial: null });
    await publish([agent]);
    const r = await exports.default.fetch(`http://edge/v1/did/did:kakunin:${agent.agent_id}`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ didDocument: null, didDocumentMetadata: { deactivated: true } });
  });
});
