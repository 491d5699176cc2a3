import { spawnSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kakuninOids } from "@kakunin/shared";
import { eq } from "drizzle-orm";
import { certificates } from "../src/db/schema.ts";
import * as asn1js from "asn1js";
import { encodeAgentModel, LEGACY_AGENT_MODEL_OID, readAgentModel } from "../src/ca/model-extension.ts";
import { agentName } from "../src/ca/profiles.ts";
import { newSerial } from "../src/ca/serial.ts";
import { signCertificate } from "../src/ca/sign-certificate.ts";
import { x509 } from "../src/ca/x509.ts";
import { ManualClock } from "../src/clock.ts";
import { loadConfig, publicEdgeUrl } from "../src/config.ts";
import { agentBody, dbKinds, SAMPLE_HASH, startTestOrigin, type TestOrigin } from "./harness.ts";
import { opensslSerial, opensslText, opensslVerify, splitPem } from "./openssl.ts";

interface Issued { id: string; agent_id: string; serial_number: string; certificate_pem: string; kms_key_arn: string; status: string; issued_at: string; expires_at: string }
interface Problem { type: string; status: number; detail: string }
const DAY = 86_400_000;

describe.each(dbKinds())("certificate lifecycle on %s", (kind) => {
  let o: TestOrigin;
  const clock = new ManualClock(new Date("2026-05-17T00:00:00Z"));
  const EDGE = "https://edge.kakunin.example";
  beforeAll(async () => { o = await startTestOrigin(kind, { clock, env: { KAKUNIN_PUBLIC_EDGE_URL: EDGE } }); });
  const tenantId = async () => (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  afterAll(async () => { await o.close(); });

  const newAgent = async (overrides: Record<string, unknown> = {}) =>
    (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody(overrides) })).body.data.id;
  const certify = (id: string) => o.json<{ data: Issued }>("POST", `/v1/agents/${id}/certify`);
  const chain = async () => splitPem((await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem);

  it("certify → 201 with exactly the seed's fields", async () => {
    const id = await newAgent();
    const r = await certify(id);
    expect(r.status).toBe(201);
    const c = r.body.data;
    expect(Object.keys(c).sort()).toEqual(["agent_id", "certificate_pem", "expires_at", "id", "issued_at", "kms_key_arn", "serial_number", "status"]);
    expect(c).toMatchObject({ agent_id: id, status: "active", issued_at: "2026-05-17T00:00:00Z", expires_at: "2027-05-17T00:00:00Z" });
    expect(c.serial_number).toMatch(/^[0-9a-f]{32}$/);
    expect(c.kms_key_arn).toMatch(/^local:key\/[0-9a-f-]{36}$/);
    expect(c.certificate_pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(r.res.headers.get("location")).toBe(`/v1/certificates/${c.id}`);
    // And the stored record reads back the same.
    const got = await o.json<{ data: Issued & { model: { hash: string }; revoked_at: null } }>("GET", `/v1/certificates/${c.id}`);
    expect(got.body.data).toMatchObject({ ...c, revoked_at: null, model: { hash: SAMPLE_HASH } });
  });

  it("tenant names that X.500 compares as equal are one name: issuing-CA subjects stay distinct under the root (RFC 5280 §4.1.2.6, §7.1)", async () => {
    // O=<tenant>, CN=Kakunin Issuing CA <tenant>: RFC 4518 caseIgnoreMatch folds case and
    // insignificant spaces, and openssl's X509_NAME_cmp does the same, so "Fold Co" and "fold  co "
    // would be two CAs with one distinguished name under the same root.
    const first = await o.json<Problem>("POST", "/v1/tenants", { body: { name: "Fold Co" } });
    expect(first.status).toBe(201);
    for (const name of ["fold co", "FOLD CO", "Fold  Co", "Fold Co "]) {
      const r = await o.json<Problem>("POST", "/v1/tenants", { body: { name } });
      expect(r.status, name).toBe(409);
      expect(r.body.detail, name).toMatch(/Fold Co/);
    }
    expect((await o.json("POST", "/v1/tenants", { body: { name: "Fold Co 2" } })).status).toBe(201);
  });

  it("every certificate issued passes openssl verify -x509_strict against the published chain", async () => {
    const id = await newAgent();
    const c = (await certify(id)).body.data;
    const [issuing, root] = await chain();
    expect(issuing && root).toBeTruthy();
    // Root against itself, issuing against root, agent against root via issuing.
    const at = ["-attime", String(Math.floor(clock.now().getTime() / 1000) + 3600)];
    expect(opensslVerify(root!, root!, undefined, at)).toMatchObject({ ok: true });
    expect(opensslVerify(root!, issuing!, undefined, at)).toMatchObject({ ok: true });
    const v = opensslVerify(root!, c.certificate_pem, issuing, [...at, "-purpose", "sslclient"]);
    expect(v.output).toContain(": OK");
    expect(v.ok).toBe(true);
    // Negative control: without the intermediate the chain must not verify.
    expect(opensslVerify(root!, c.certificate_pem, undefined, at).ok).toBe(false);
  });

  it("the agent certificate carries the design's profile (openssl x509 -text)", async () => {
    const id = await newAgent({ name: "fx-hedger, \"EU\"" });
    const c = (await certify(id)).body.data;
    const text = opensslText(c.certificate_pem);
    expect(text).toContain("Public-Key: (2048 bit)");
    expect(text).toContain("Signature Algorithm: sha256WithRSAEncryption");
    expect(text).toContain('Subject: CN=fx-hedger\\, \\"EU\\",O=default');
    expect(text).toContain(`URI:urn:kakunin:agent:${id}`);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s*\n\s*TLS Web Client Authentication/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s*\n\s*CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s*\n\s*Digital Signature/);
    expect(text).toContain("X509v3 Subject Key Identifier");
    expect(text).toContain("X509v3 Authority Key Identifier");
    // The model extension under the small-arc OID (Go and GnuTLS refused the 2.25.<UUID> arc) ...
    expect(text).toContain(`${kakuninOids().agentModelExtension}:`);
    expect(text).not.toContain("2.25.");
    // ... and the same hash as a SAN URI any parser exposes.
    expect(text).toContain(`URI:urn:kakunin:model:sha256:${"ab".repeat(32)}`);
    // Revocation and issuer pointers at the public edge, per tenant.
    // Per issuing CA (its serial), so certificates of a rolled-over CA keep finding their issuer and CRL.
    const t = await tenantId();
    const issuer = (await o.json<{ data: { issuing: { serial_number: string } } }>("GET", "/v1/ca")).body.data.issuing.serial_number;
    expect(text).toMatch(new RegExp(`Authority Information Access:\\s*\\n\\s*OCSP - URI:${EDGE}/v1/ocsp\\n\\s*CA Issuers - URI:${EDGE}/v1/ca/${t}/${issuer}\\n`));
    expect(text).toMatch(new RegExp(`CRL Distribution Points:\\s*\\n\\s*Full Name:\\s*\\n\\s*URI:${EDGE}/v1/crl/${t}/${issuer}/(0|[1-9][0-9]*)\\n`));
    expect(text).toContain("Not Before: May 16 23:59:00 2026 GMT");
    expect(text).toContain("Not After : May 17 00:00:00 2027 GMT");
    expect(opensslSerial(c.certificate_pem)).toBe(`serial=${c.serial_number.toUpperCase()}`);
    // The model extension decodes to what the agent declared.
    const ext = readAgentModel(new x509.X509Certificate(c.certificate_pem).rawData);
    expect(ext).toEqual({ critical: false, model: { name: "gpt-4o", version: "2024-08-06", hash: SAMPLE_HASH }, oid: kakuninOids().agentModelExtension });
  });

  it("CA certificates: root and issuing profiles", async () => {
    const [issuing, root] = await chain();
    const rt = opensslText(root!);
    expect(rt).toMatch(/Basic Constraints: critical\s*\n\s*CA:TRUE\n/);
    expect(rt).toMatch(/Key Usage: critical\s*\n\s*Certificate Sign, CRL Sign/);
    const it = opensslText(issuing!);
    expect(it).toMatch(/Basic Constraints: critical\s*\n\s*CA:TRUE, pathlen:0/);
    expect(it).toContain("O=default");
    // The issuing CA points at the root's DER and the root's CRL; the self-signed root points nowhere.
    const t = await tenantId();
    expect(it).toMatch(new RegExp(`Authority Information Access:\\s*\\n\\s*CA Issuers - URI:${EDGE}/v1/ca/${t}/root\\n`));
    expect(it).toMatch(new RegExp(`CRL Distribution Points:\\s*\\n\\s*Full Name:\\s*\\n\\s*URI:${EDGE}/v1/crl/root\\n`));
    expect(rt).not.toContain("Authority Information Access");
    expect(rt).not.toContain("CRL Distribution Points");
  });

  it("a certificate issued under the legacy 2.25.<UUID> model OID still reads and chain-verifies", async () => {
    const t = (await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant")).body.data;
    const issuing = await o.services.ca.issuingFor(t);
    const key = await o.services.keys.createKey("legacy-model-oid-test");
    if (!issuing.ok || !key.ok) throw new Error("CA or key unavailable");
    const model = { name: "gpt-4o", version: "2024-08-06", hash: SAMPLE_HASH };
    // Encoded with asn1js as the old code did (@peculiar/x509 mis-encodes arcs above 2^53).
    const legacyExt = new x509.Extension(new asn1js.Sequence({
      value: [new asn1js.ObjectIdentifier({ value: LEGACY_AGENT_MODEL_OID }), new asn1js.OctetString({ valueHex: encodeAgentModel(model).slice().buffer })],
    }).toBER(false));
    const cert = await signCertificate(o.services.keys, {
      serial: newSerial(), subject: agentName("legacy", t.name), issuer: issuing.value.cert.subjectName,
      subjectSpki: key.value.publicKeySpki, issuerSpki: issuing.value.spki,
      notBefore: clock.now(), notAfter: new Date(clock.now().getTime() + DAY),
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), legacyExt], signerRef: issuing.value.record.keyRef,
    });
    if (!cert.ok) throw new Error("sign failed");
    expect(readAgentModel(cert.value.rawData)).toEqual({ critical: false, model, oid: LEGACY_AGENT_MODEL_OID });
    // Only the OIDs asked for are read.
    expect(readAgentModel(cert.value.rawData, [kakuninOids().agentModelExtension])).toBeUndefined();
    const [, root] = await chain();
    const at = ["-attime", String(Math.floor(clock.now().getTime() / 1000) + 60)];
    expect(opensslVerify(root!, cert.value.toString("pem"), issuing.value.record.certificatePem, at)).toMatchObject({ ok: true });
  });

  it("409 while a certificate is active; 404 for an unknown agent; 422 for a retired one", async () => {
    const id = await newAgent();
    expect((await certify(id)).status).toBe(201);
    const again = await o.json<Problem>("POST", `/v1/agents/${id}/certify`);
    expect(again.status).toBe(409);
    expect(again.body.type).toBe("urn:kakunin:problem:already-active");
    expect((await o.json<Problem>("POST", "/v1/agents/00000000-0000-4000-8000-000000000000/certify")).status).toBe(404);
    const retired = await newAgent();
    await o.json("POST", `/v1/agents/${retired}/retire`);
    const r = await o.json<Problem>("POST", `/v1/agents/${retired}/certify`);
    expect(r.status).toBe(422);
    expect(r.body.type).toBe("urn:kakunin:problem:agent-retired");
  });

  it("revoke → 200, agent suspended; again → 409; a new certificate lifts the suspension", async () => {
    const id = await newAgent();
    const c = (await certify(id)).body.data;
    const r = await o.json<{ data: Record<string, string> }>("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "Anomalous trading behaviour detected by compliance team" } });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ id: c.id, status: "revoked", revoked_at: clock.now().toISOString().replace(".000Z", "Z"), revocation_reason: "Anomalous trading behaviour detected by compliance team" });
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/agents/${id}`)).body.data.status).toBe("suspended");
    const again = await o.json<Problem>("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "again" } });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe("urn:kakunin:problem:already-revoked");
    const fresh = await certify(id);
    expect(fresh.status).toBe(201);
    expect(fresh.body.data.serial_number).not.toBe(c.serial_number);
    expect(fresh.body.data.kms_key_arn).not.toBe(c.kms_key_arn);
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/agents/${id}`)).body.data.status).toBe("active");
    const list = await o.json<{ data: { id: string; status: string }[] }>("GET", `/v1/agents/${id}/certificates`);
    expect(list.body.data.map((x) => x.status).sort()).toEqual(["active", "revoked"]);
  });

  it("the agent's certificates list is paged newest first (an agent re-certified for years has thousands)", async () => {
    const id = await newAgent();
    const issued: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = (await certify(id)).body.data;
      issued.unshift(c.id);
      // Two in the same millisecond tie on issued_at: the page order must still be total.
      if (i % 2 === 0) clock.advance(1000);
      if (i < 4) expect((await o.json("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "rotate" } })).status).toBe(200);
    }
    type Page = { data: { id: string; issued_at: string }[]; next_cursor: string | null };
    const seen: string[] = [];
    const times: number[] = [];
    let url = `/v1/agents/${id}/certificates?limit=2`;
    for (let pages = 0; pages < 5; pages++) {
      const p = await o.json<Page>("GET", url);
      expect(p.status).toBe(200);
      expect(p.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...p.body.data.map((c) => c.id));
      times.push(...p.body.data.map((c) => Date.parse(c.issued_at)));
      if (!p.body.next_cursor) break;
      url = `/v1/agents/${id}/certificates?limit=2&cursor=${p.body.next_cursor}`;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(issued));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const bad of ["limit=0", "limit=201", "cursor=nope"]) expect((await o.json("GET", `/v1/agents/${id}/certificates?${bad}`)).status, bad).toBe(422);
  });

  it("revoke validates its body (422) and refuses an expired certificate (422)", async () => {
    const id = await newAgent();
    const c = (await certify(id)).body.data;
    for (const body of [{}, { reason: "" }, { reason: "x".repeat(513) }, { reason: "x", reason_code: "bogus" }, { reason: 5 }]) {
      const r = await o.json<Problem>("POST", `/v1/certificates/${c.id}/revoke`, { body });
      expect(r.status, JSON.stringify(body)).toBe(422);
    }
    clock.advance(366 * DAY);
    try {
      const got = await o.json<{ data: { status: string } }>("GET", `/v1/certificates/${c.id}`);
      expect(got.body.data.status).toBe("expired");
      const r = await o.json<Problem>("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "too late" } });
      expect(r.status).toBe(422);
      expect(r.body.type).toBe("urn:kakunin:problem:certificate-expired");
      // An expired certificate does not block a new one.
      expect((await certify(id)).status).toBe(201);
    } finally {
      clock.set(new Date("2026-05-17T00:00:00Z"));
    }
  });

  it("certificateHold is refused (422 naming reason_code: revocation here is final); every other RFC 5280 reason is kept", async () => {
    const c = (await certify(await newAgent())).body.data;
    const hold = await o.json<Problem & { errors: { path: string; message: string }[] }>("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "pause it", reason_code: "certificateHold" } });
    expect(hold.status).toBe(422);
    expect(hold.body.type).toBe("urn:kakunin:problem:validation-failed");
    expect(hold.body.errors).toEqual([{ path: "reason_code", message: expect.stringMatching(/final/) }]);
    // Nothing happened: the certificate is still active and can be revoked for a real reason.
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/certificates/${c.id}`)).body.data.status).toBe("active");
    for (const code of ["unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation", "privilegeWithdrawn", "aACompromise"]) {
      const cert = code === "unspecified" ? c : (await certify(await newAgent())).body.data;
      const r = await o.json<{ data: { status: string } }>("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: `test ${code}`, reason_code: code } });
      expect(r.status, code).toBe(200);
      expect(r.body.data.status).toBe("revoked");
    }
    // The API description says so too.
    const doc = await (await o.request("GET", "/openapi.json")).json() as { paths: Record<string, { post: { requestBody: { content: { "application/json": { schema: { properties: { reason_code: { enum: string[]; description: string } } } } } } } }> };
    const codeSchema = doc.paths["/v1/certificates/{id}/revoke"]!.post.requestBody.content["application/json"].schema.properties.reason_code;
    expect(codeSchema.enum).not.toContain("certificateHold");
    expect(codeSchema.description).toMatch(/certificateHold/);
  });

  it("a free-text reason that names an RFC 5280 reason is that reason's code, unless reason_code says otherwise", async () => {
    const codeOf = async (id: string) => (await o.services.db.select({ code: certificates.revocationCode }).from(certificates).where(eq(certificates.id, id)))[0]?.code;
    const cases: [Record<string, string>, string][] = [
      [{ reason: "keyCompromise" }, "keyCompromise"],
      [{ reason: "Key compromise" }, "keyCompromise"],
      [{ reason: "CESSATION_OF_OPERATION" }, "cessationOfOperation"],
      [{ reason: "superseded" }, "superseded"],
      // A hold is never given (revocation is final), and a sentence is only text.
      [{ reason: "certificateHold" }, "unspecified"],
      [{ reason: "the key was compromised" }, "unspecified"],
      [{ reason: "keyCompromise", reason_code: "affiliationChanged" }, "affiliationChanged"],
    ];
    for (const [body, code] of cases) {
      const c = (await certify(await newAgent())).body.data;
      const r = await o.json<{ data: { revocation_reason: string } }>("POST", `/v1/certificates/${c.id}/revoke`, { body });
      expect(r.status).toBe(200);
      expect(r.body.data.revocation_reason).toBe(body.reason);
      expect({ body, code: await codeOf(c.id) }).toEqual({ body, code });
    }
  });

  it("a new model hash on PATCH revokes the active certificate with reason superseded", async () => {
    const id = await newAgent();
    const c = (await certify(id)).body.data;
    const same = await o.json("PATCH", `/v1/agents/${id}`, { body: { model: { hash: SAMPLE_HASH, version: "2" } } });
    expect(same.status).toBe(200);
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/certificates/${c.id}`)).body.data.status).toBe("active");
    const newHash = `sha256:${"cd".repeat(32)}`;
    const r = await o.json<{ data: { status: string; model: { hash: string } } }>("PATCH", `/v1/agents/${id}`, { body: { model: { hash: newHash } } });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ status: "active", model: { hash: newHash } });
    const cert = await o.json<{ data: { status: string; revocation_reason: string } }>("GET", `/v1/certificates/${c.id}`);
    expect(cert.body.data).toMatchObject({ status: "revoked", revocation_reason: "superseded" });
    const next = await certify(id);
    expect(next.status).toBe(201);
    expect(readAgentModel(new x509.X509Certificate(next.body.data.certificate_pem).rawData)?.model?.hash).toBe(newHash);
  });

  it("sign: the agent's key signs, verifiable with the certificate's public key; revoked keys sign nothing", async () => {
    const id = await newAgent();
    const payload = new TextEncoder().encode("POST /orders 2026-05-17 {\"qty\":10}");
    const b64 = Buffer.from(payload).toString("base64");
    const none = await o.json<Problem>("POST", `/v1/agents/${id}/sign`, { body: { payload_b64: b64, algorithm: "RSASSA_PKCS1_V1_5_SHA_256" } });
    expect(none.status).toBe(409);
    const c = (await certify(id)).body.data;
    const r = await o.json<{ data: { signature_b64: string; serial_number: string; certificate_id: string } }>("POST", `/v1/agents/${id}/sign`, { body: { payload_b64: b64, algorithm: "RSASSA_PKCS1_V1_5_SHA_256" } });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ serial_number: c.serial_number, certificate_id: c.id });
    const pub = await new x509.X509Certificate(c.certificate_pem).publicKey.export({ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, ["verify"], webcrypto as unknown as Parameters<x509.PublicKey["export"]>[2]);
    const sig = Buffer.from(r.body.data.signature_b64, "base64");
    expect(await webcrypto.subtle.verify("RSASSA-PKCS1-v1_5", pub as unknown as webcrypto.CryptoKey, sig, payload)).toBe(true);
    expect(await webcrypto.subtle.verify("RSASSA-PKCS1-v1_5", pub as unknown as webcrypto.CryptoKey, sig, new TextEncoder().encode("tampered"))).toBe(false);
    for (const body of [{ payload_b64: "!!!" }, { payload_b64: "" }, { payload_b64: b64, algorithm: "ES256" }, { payload_b64: "YQ" }]) {
      expect((await o.json("POST", `/v1/agents/${id}/sign`, { body })).status, JSON.stringify(body)).toBe(422);
    }
    await o.json("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "done" } });
    expect((await o.json("POST", `/v1/agents/${id}/sign`, { body: { payload_b64: b64 } })).status).toBe(409);
  });

  it("GET /v1/ca also serves raw PEM", async () => {
    const res = await o.request("GET", "/v1/ca", { headers: { accept: "application/pem-certificate-chain" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/pem-certificate-chain");
    expect(splitPem(await res.text())).toHaveLength(2);
  });
});

describe("KAKUNIN_OID_ARC", () => {
  it("a configured arc names the model extension; arcs that do not fit 32 bits are refused at start", async () => {
    const arc = "1.3.6.1.4.1.99999.7";
    const o = await startTestOrigin("pglite", { env: { KAKUNIN_OID_ARC: arc } });
    try {
      const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const pem = (await o.json<{ data: Issued }>("POST", `/v1/agents/${id}/certify`)).body.data.certificate_pem;
      expect(opensslText(pem)).toContain(`${arc}.1:`);
      const der = new x509.X509Certificate(pem).rawData;
      expect(readAgentModel(der, [kakuninOids(arc).agentModelExtension])?.model?.hash).toBe(SAMPLE_HASH);
      expect(readAgentModel(der)).toBeUndefined();
    } finally {
      await o.close();
    }
    for (const bad of [LEGACY_AGENT_MODEL_OID, "1.3.6.1.4.1.4294967296", "1.3.6.1.4.1.", "example"]) {
      expect(() => loadConfig({ KAKUNIN_OID_ARC: bad }), bad).toThrow(/KAKUNIN_OID_ARC/);
    }
  });
});

describe("the public edge URL written into AIA and CDP", () => {
  it("is an ASCII http(s) URI (IA5String): an IDN host or a space is encoded, credentials, query, fragment or another scheme refused at start", async () => {
    const url = publicEdgeUrl(loadConfig({ KAKUNIN_PUBLIC_EDGE_URL: "https://bücher.example/pki base/" }));
    expect(url).toBe("https://xn--bcher-kva.example/pki%20base");
    const o = await startTestOrigin("pglite", { env: { KAKUNIN_PUBLIC_EDGE_URL: "https://bücher.example/pki base" } });
    try {
      const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const pem = (await o.json<{ data: Issued }>("POST", `/v1/agents/${id}/certify`)).body.data.certificate_pem;
      const uris = [...opensslText(pem).matchAll(/URI:(http\S*)/g)].map((m) => m[1]);
      expect(uris).toHaveLength(3); // OCSP, CA issuers, CRL distribution point
      for (const u of uris) expect(u).toMatch(/^https:\/\/xn--bcher-kva\.example\/pki%20base\/v1\/[\x21-\x7e]+$/);
      // Python cryptography refuses a certificate whose IA5String carries a non-ASCII octet.
      const py = spawnSync("/usr/bin/python3", ["-c", "import sys; from cryptography import x509; c = x509.load_pem_x509_certificate(sys.stdin.buffer.read()); [e.value for e in c.extensions]"], { input: pem });
      expect(py.stderr.toString()).toBe("");
      expect(py.status).toBe(0);
    } finally {
      await o.close();
    }
    for (const bad of ["ftp://edge.example", "https://u:p@edge.example", "https://edge.example/?q=1", "https://edge.example/#f", "javascript:alert(1)"]) {
      expect(() => loadConfig({ KAKUNIN_PUBLIC_EDGE_URL: bad }), bad).toThrow(/KAKUNIN_PUBLIC_EDGE_URL/);
    }
  });
});
