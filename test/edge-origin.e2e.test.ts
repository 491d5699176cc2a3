import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody } from "../origin/test/harness.ts";
import { splitPem } from "../origin/test/openssl.ts";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "./support/system.ts";

interface Verify { data: { status: string; valid: boolean; agent_id: string; revocation_reason: string | null } }

/**
 * The real system: origin (Node, PGlite) and edge (wrangler dev / workerd) as separate processes,
 * wired by the signed publish route.
 */
describe("origin → edge publishing, end to end", () => {
  const fx = systemFixture();
  let sys: RunningSystem;
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${sys.origin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${fx.adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const verify = async (serial: string) => {
    const r = await fetch(`${sys.edge.url}/v1/verify/${serial}`);
    return { status: r.status, body: (r.status === 200 ? await r.json() : undefined) as Verify | undefined };
  };
  async function certifiedAgent(): Promise<{ agent: string; cert: string; serial: string }> {
    const agent = ((await (await api("POST", "/v1/agents", agentBody())).json()) as { data: { id: string } }).data.id;
    const c = ((await (await api("POST", `/v1/agents/${agent}/certify`)).json()) as { data: { id: string; serial_number: string } }).data;
    return { agent, cert: c.id, serial: c.serial_number };
  }

  beforeAll(async () => {
    sys = await startSystem(fx);
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
    fx.cleanup();
  });

  it("certify → verify active → revoke → verify revoked in well under a second", async () => {
    const { agent, cert, serial } = await certifiedAgent();
    const active = await pollUntil(async () => {
      const v = await verify(serial);
      return v.body?.data.status === "active" ? v.body : undefined;
    }, 5000);
    expect(active.value.data).toMatchObject({ valid: true, agent_id: agent });
    const revoke = await api("POST", `/v1/certificates/${cert}/revoke`, { reason: "compliance hold" });
    expect(revoke.status).toBe(200);
    const seen = await pollUntil(async () => {
      const v = await verify(serial);
      return v.body?.data.status === "revoked" ? v.body : undefined;
    }, 5000, 10);
    expect(seen.value.data).toMatchObject({ valid: false, revocation_reason: "compliance hold" });
    expect(seen.ms).toBeLessThan(1000);
  });

  it("a new certificate is active at the edge as soon as certify (or renew) answered, without polling", async () => {
    for (let i = 0; i < 3; i++) {
      const { agent, serial } = await certifiedAgent();
      expect((await verify(serial)).body?.data).toMatchObject({ status: "active", valid: true, agent_id: agent });
      const renewed = await api("POST", `/v1/agents/${agent}/certificates/renew`);
      expect(renewed.status).toBe(201);
      const next = ((await renewed.json()) as { data: { serial_number: string } }).data.serial_number;
      expect((await verify(next)).body?.data).toMatchObject({ status: "active", valid: true, agent_id: agent });
    }
  });

  it("retiring an agent revokes its certificate at the edge as soon as the call answered, without polling", async () => {
    for (let i = 0; i < 3; i++) {
      const { agent, serial } = await certifiedAgent();
      expect((await verify(serial)).body?.data.status).toBe("active");
      expect((await api("POST", `/v1/agents/${agent}/retire`)).status).toBe(200);
      expect((await verify(serial)).body?.data).toMatchObject({ status: "revoked", valid: false });
    }
  });

  it("a revocation is visible at the edge as soon as the revoke call answered, without polling", async () => {
    for (let i = 0; i < 3; i++) {
      const { cert, serial } = await certifiedAgent();
      await pollUntil(async () => ((await verify(serial)).body?.data.status === "active" ? true : undefined), 5000);
      const revoke = await api("POST", `/v1/certificates/${cert}/revoke`, { reason: "compliance hold" });
      expect(revoke.status).toBe(200);
      // Both read paths: the ledger (strong) and the default one (KV and the isolate's short cache).
      const strong = (await (await fetch(`${sys.edge.url}/v1/verify/${serial}?consistency=strong`)).json()) as Verify;
      expect(strong.data).toMatchObject({ status: "revoked", valid: false });
      expect((await verify(serial)).body?.data).toMatchObject({ status: "revoked", valid: false });
    }
  });

  it("a new model hash (PATCH) supersedes the certificate, visible at the edge as soon as the PATCH answered", async () => {
    const { agent, serial } = await certifiedAgent();
    await pollUntil(async () => ((await verify(serial)).body?.data.status === "active" ? true : undefined), 5000);
    const patched = await api("PATCH", `/v1/agents/${agent}`, { model: { hash: `sha256:${"e".repeat(64)}` } });
    expect(patched.status).toBe(200);
    expect((await verify(serial)).body?.data).toMatchObject({ status: "revoked", valid: false, revocation_reason: "superseded" });
  });

  it("standard tooling at the edge: openssl ocsp says good, then revoked; the edge's CRL lists it", async () => {
    const { cert, serial } = await certifiedAgent();
    const certPem = ((await (await api("GET", `/v1/certificates/${cert}`)).json()) as { data: { certificate_pem: string } }).data.certificate_pem;
    const [issuing, root] = splitPem(((await (await api("GET", "/v1/ca")).json()) as { data: { chain_pem: string } }).data.chain_pem);
    const dir = join(fx.dir, `ocsp-${serial}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "leaf.pem"), certPem);
    writeFileSync(join(dir, "issuing.pem"), issuing!);
    writeFileSync(join(dir, "root.pem"), root!);
    const ocsp = () => {
      try {
        return execFileSync("openssl", ["ocsp", "-issuer", join(dir, "issuing.pem"), "-cert", join(dir, "leaf.pem"), "-url", `${sys.edge.url}/v1/ocsp`, "-CAfile", join(dir, "root.pem")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      } catch (e) {
        return String((e as { stdout?: string }).stdout ?? "") + String((e as { stderr?: string }).stderr ?? "");
      }
    };
    const good = await pollUntil(async () => { const out = ocsp(); return /leaf\.pem: good/.test(out) ? out : undefined; }, 10_000, 100);
    expect(good.value).toContain("leaf.pem: good");
    // The same certificate asked by its SHA-256 CertID (the pre-signed response carries both).
    const sha256 = execFileSync("openssl", ["ocsp", "-issuer", join(dir, "issuing.pem"), "-sha256", "-cert", join(dir, "leaf.pem"), "-url", `${sys.edge.url}/v1/ocsp`, "-CAfile", join(dir, "root.pem")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(sha256).toContain("leaf.pem: good");
    // Asked under another tenant's issuing CA, the serial is not this responder's to answer:
    // unauthorized (RFC 5019 §2.2.3), not this CA's signed response for another CertID.
    const otherKey = ((await (await api("POST", "/v1/tenants", { name: `other-${serial}` })).json()) as { data: { admin_api_key: string } }).data.admin_api_key;
    const otherChain = ((await (await fetch(`${sys.origin.url}/v1/ca`, { headers: { authorization: `Bearer ${otherKey}` } })).json()) as { data: { chain_pem: string } }).data.chain_pem;
    writeFileSync(join(dir, "other-issuing.pem"), splitPem(otherChain)[0]!);
    for (const digest of ["-sha1", "-sha256"]) {
      let foreign = "";
      try {
        foreign = execFileSync("openssl", ["ocsp", "-issuer", join(dir, "other-issuing.pem"), digest, "-cert", join(dir, "leaf.pem"), "-url", `${sys.edge.url}/v1/ocsp`, "-CAfile", join(dir, "root.pem")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      } catch (e) {
        foreign = String((e as { stdout?: string }).stdout ?? "") + String((e as { stderr?: string }).stderr ?? "");
      }
      expect(foreign, digest).toContain("Responder Error: unauthorized (6)");
    }
    await api("POST", `/v1/certificates/${cert}/revoke`, { reason: "key compromise suspected", reason_code: "keyCompromise" });
    const revoked = await pollUntil(async () => { const out = ocsp(); return /leaf\.pem: revoked/.test(out) ? out : undefined; }, 10_000, 100);
    expect(revoked.value).toMatch(/Reason: keyCompromise/);
    // The CRL served by the edge: signed by the issuing CA, lists the serial, and openssl verify -crl_check refuses the leaf.
    const crl = await pollUntil(async () => {
      const r = await fetch(`${sys.edge.url}/v1/crl`);
      if (r.status !== 200) return undefined;
      const der = new Uint8Array(await r.arrayBuffer());
      writeFileSync(join(dir, "crl.der"), der);
      const text = execFileSync("openssl", ["crl", "-inform", "DER", "-in", join(dir, "crl.der"), "-noout", "-text"], { encoding: "utf8" });
      return text.toUpperCase().includes(serial.toUpperCase()) ? text : undefined;
    }, 10_000, 100);
    expect(crl.value).toContain("Key Compromise");
    execFileSync("openssl", ["crl", "-inform", "DER", "-in", join(dir, "crl.der"), "-out", join(dir, "crl.pem")]);
    let verifyOut = "";
    try {
      execFileSync("openssl", ["verify", "-crl_check", "-CRLfile", join(dir, "crl.pem"), "-CAfile", join(dir, "root.pem"), "-untrusted", join(dir, "issuing.pem"), join(dir, "leaf.pem")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      verifyOut = String((e as { stdout?: string }).stdout ?? "") + String((e as { stderr?: string }).stderr ?? "");
    }
    expect(verifyOut).toContain("certificate revoked");
  });

  it("did:kakunin resolves at the edge to the agent's certificate key", async () => {
    const { agent, serial } = await certifiedAgent();
    const res = await pollUntil(async () => {
      const r = await fetch(`${sys.edge.url}/v1/did/did:kakunin:${agent}`);
      const body = (await r.json()) as { didDocument: { verificationMethod: { id: string; publicKeyJwk: { kty: string; n: string } }[] } | null };
      return body.didDocument ? body : undefined;
    }, 5000);
    const vm = res.value.didDocument!.verificationMethod[0]!;
    expect(vm.id).toBe(`did:kakunin:${agent}#${serial}`);
    expect(vm.publicKeyJwk.kty).toBe("RSA");
    expect(Buffer.from(vm.publicKeyJwk.n, "base64url").length).toBe(256);
  });

  it("verify keeps answering while the origin is down", async () => {
    const { serial } = await certifiedAgent();
    await pollUntil(async () => ((await verify(serial)).status === 200 ? true : undefined), 5000);
    await sys.origin.stop();
    try {
      const v = await verify(serial);
      expect(v.status).toBe(200);
      expect(v.body?.data.status).toBe("active");
    } finally {
      await sys.restartOrigin();
    }
  });

  it("a revocation made while the edge is down arrives once the edge is back, and nothing is lost", async () => {
    const a = await certifiedAgent();
    const b = await certifiedAgent();
    await pollUntil(async () => ((await verify(b.serial)).status === 200 ? true : undefined), 5000);
    await sys.edge.stop();
    expect((await api("POST", `/v1/certificates/${a.cert}/revoke`, { reason: "while edge down" })).status).toBe(200);
    expect((await api("POST", `/v1/certificates/${b.cert}/revoke`, { reason: "also while edge down" })).status).toBe(200);
    const c = await certifiedAgent(); // issued while the edge is down
    await sys.restartEdge();
    for (const [serial, status] of [[a.serial, "revoked"], [b.serial, "revoked"], [c.serial, "active"]] as const) {
      const got = await pollUntil(async () => {
        const v = await verify(serial);
        return v.body?.data.status === status ? v.body : undefined;
      }, 40_000, 100);
      expect(got.value.data.status).toBe(status);
    }
  }, 120_000);
});
