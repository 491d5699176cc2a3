/**
 * Issue 11 §1: an issuer (or anyone holding an ordinary tenant key) must not be able to forge an
 * evidence bundle that `kakunin audit verify` accepts. Each attack is built exactly as an attacker
 * would: fake entries re-linked and re-hashed into a tree of their own, a tree head signed with a
 * key the attacker can reach, a foreign tenant id, a root of their own. Each must exit 1 naming why.
 */
import { execFile } from "node:child_process";
import { randomBytes, webcrypto } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  canonicalize, gapNodes, leafHash, MemoryNodeStore, inclusionProof, rootHash, signInternal, toHex, treeHeadMessage, type AuditEntryJson,
  type EvidenceBundle as EvidenceBundleV3, type EvidenceBundleV2 as EvidenceBundle,
} from "@kakunin/shared";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { CLI } from "./support/run.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const CLI_DIR = join(import.meta.dirname, "..");
interface Run { code: number; stdout: string; stderr: string }
function kakunin(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    // No config file: a root saved by `kakunin init` on the developer's machine must not pin anything here.
    const env = { ...process.env, KAKUNIN_CONFIG: join(tmpdir(), "kakunin-forge-no-config.json") };
    execFile(process.execPath, [CLI, ...args], { cwd: CLI_DIR, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err && typeof err.code === "number" ? err.code : err ? -1 : 0, stdout, stderr });
    });
  });
}

const enc = new TextEncoder();
type KeyPair = webcrypto.CryptoKeyPair;
type Json = Record<string, unknown>;

/**
 * A competent forger: applies `edit` to every entry, re-links every chain field the format has
 * (`prev`, and the per-agent `agent_prev` where present) to the forged predecessors, re-hashes,
 * and builds a tree of the same size from the forged leaves plus random filler, with fresh proofs.
 */
async function forgeEntries(b: EvidenceBundle, edit: (entry: Json) => void, tenantId: string): Promise<{ bundle: EvidenceBundle; body: { tenant_id: string; tree_size: number; root_hash: string; timestamp: string } }> {
  const out = structuredClone(b);
  out.tenant.id = tenantId;
  const size = out.tree_head.tree_size;
  const leaves = new Map<number, Uint8Array>();
  let prevInBundle: Uint8Array | null = null;
  for (const e of [...out.entries].sort((x, y) => x.index - y.index)) {
    const entry = JSON.parse(e.canonical) as Json;
    edit(entry);
    entry.log = tenantId;
    if (leaves.has(e.index - 1)) entry.prev = toHex(leaves.get(e.index - 1)!);
    if ("agent_prev" in entry && entry.agent_prev !== null && prevInBundle) entry.agent_prev = toHex(prevInBundle);
    e.canonical = canonicalize(entry);
    const leaf = await leafHash(enc.encode(e.canonical));
    e.leaf_hash = toHex(leaf);
    leaves.set(e.index, leaf);
    prevInBundle = leaf;
  }
  const tree = new MemoryNodeStore();
  for (let i = 0; i < size; i++) await tree.append(leaves.get(i) ?? (await leafHash(randomBytes(16))));
  for (const e of out.entries) e.audit_path = (await inclusionProof(e.index, size, tree)).map(toHex);
  const body = { tenant_id: tenantId, tree_size: size, root_hash: toHex(await rootHash(size, tree)), timestamp: new Date().toISOString() };
  Object.assign(out.tree_head, body);
  return { bundle: out, body };
}

/** The same competent forger for kakunin-evidence/3: entries edited and re-linked, a tree of its own, a multiproof from it. */
async function forgeEntriesV3(b: EvidenceBundleV3, edit: (entry: Json) => void, tenantId: string): Promise<{ bundle: EvidenceBundleV3; body: { tenant_id: string; tree_size: number; root_hash: string; timestamp: string } }> {
  const out = structuredClone(b);
  out.tenant.id = tenantId;
  const size = out.tree_head.tree_size;
  const leaves = new Map<number, Uint8Array>();
  const entries = out.entries.filter((e): e is AuditEntryJson => typeof e !== "string");
  let prevInBundle: Uint8Array | null = null;
  for (const entry of entries) {
    edit(entry);
    entry.log = tenantId;
    if (leaves.has(entry.index - 1)) entry.prev = toHex(leaves.get(entry.index - 1)!);
    if ("agent_prev" in entry && entry.agent_prev !== null && prevInBundle) entry.agent_prev = toHex(prevInBundle);
    const leaf = await leafHash(enc.encode(canonicalize(entry)));
    leaves.set(entry.index, leaf);
    prevInBundle = leaf;
  }
  const tree = new MemoryNodeStore();
  for (let i = 0; i < size; i++) await tree.append(leaves.get(i) ?? (await leafHash(randomBytes(16))));
  out.entries = [];
  let next = 0;
  for (const i of [...entries.map((e) => e.index), size]) {
    const g = await gapNodes(next, i, size, tree);
    if (g.length) out.entries.push(Buffer.from(g).toString("base64"));
    const e = entries.find((x) => x.index === i);
    if (e) out.entries.push(e);
    next = i + 1;
  }
  const body = { tenant_id: tenantId, tree_size: size, root_hash: toHex(await rootHash(size, tree)), timestamp: new Date().toISOString() };
  Object.assign(out.tree_head, body);
  return { bundle: out, body };
}

/** A self-made PKI shaped like Kakunin's: root, issuing CA, and an "audit" certificate. */
async function selfMadePki(tenantName: string, agentSerial: string) {
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await Promise.all([0, 1, 2].map(() => webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]) as Promise<KeyPair>));
  const [rk, ik, ak] = keys as [KeyPair, KeyPair, KeyPair];
  const nb = new Date(Date.now() - 86_400_000);
  const na = new Date(Date.now() + 365 * 86_400_000);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01", name: "O=Kakunin, CN=Kakunin Root CA forged", notBefore: nb, notAfter: na, keys: rk, signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const issuing = await x509.X509CertificateGenerator.create({
    serialNumber: "02", subject: `O=${tenantName}, CN=Kakunin Issuing CA ${tenantName}`, issuer: root.subject, notBefore: nb, notAfter: na,
    publicKey: ik.publicKey, signingKey: rk.privateKey, signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true)],
  });
  const audit = await x509.X509CertificateGenerator.create({
    serialNumber: "03", subject: `O=${tenantName}, CN=Kakunin Audit Log ${tenantName}`, issuer: issuing.subject, notBefore: nb, notAfter: na,
    publicKey: ak.publicKey, signingKey: ik.privateKey, signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const agentKeys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]) as KeyPair;
  const agentCert = await x509.X509CertificateGenerator.create({
    serialNumber: agentSerial, subject: `O=${tenantName}, CN=trading-bot-7f3a`, issuer: issuing.subject, notBefore: nb, notAfter: na,
    publicKey: agentKeys.publicKey, signingKey: ik.privateKey, signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return { root, issuing, audit, auditKey: ak.privateKey, agentCert };
}

describe.each(["kakunin-evidence/2", "kakunin-evidence/3"] as const)("forged evidence bundles (%s) fail `kakunin audit verify` (exit 1, reason named)", (format) => {
  // v3 bundles are forged the same way, with a multiproof of the forger's tree instead of audit paths.
  const forge = (b: EvidenceBundle, edit: (entry: Json) => void, tenantId: string) =>
    (format === "kakunin-evidence/2" ? forgeEntries(b, edit, tenantId) : forgeEntriesV3(b as unknown as EvidenceBundleV3, edit, tenantId)) as Promise<{ bundle: EvidenceBundle; body: { tenant_id: string; tree_size: number; root_hash: string; timestamp: string } }>;
  let o: TestOrigin;
  let dir = "";
  let tenantA = "";
  let tenantB = "";
  let agent = "";
  let serial = "";
  let agentKeyRef = "";
  let rootPem = "";
  let genuine: EvidenceBundle;

  const write = (name: string, doc: unknown): string => {
    const path = join(dir, name);
    // Compact: v3 entries must stay the exact bytes that were hashed (a pretty-printed v3 bundle fails).
    writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc));
    return path;
  };
  const verify = (file: string, ...more: string[]) => kakunin("audit", "verify", file, ...more);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-forge-"));
    o = await startTestOrigin("pglite");
    tenantA = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    tenantB = (await o.json<{ data: { id: string } }>("POST", "/v1/tenants", { body: { name: "victim-bank" } })).body.data.id;
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { serial_number: string; kms_key_arn: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    serial = cert.serial_number;
    agentKeyRef = cert.kms_key_arn;
    const ev = { event_id: "wire-1", timestamp: new Date().toISOString(), type: "transaction", action: "orders.place", amount: 250_000, currency: "EUR", outcome: "success" };
    const body = JSON.stringify({ events: [{ agent_id: agent, tenant_id: tenantA, serial_number: serial, event: ev, score: 0.1, band: "low", reasons: [], received_at: new Date().toISOString() }] });
    const headers = await signInternal(o.services.edgeSecret, "POST", "/internal/v1/events", body);
    expect((await o.request("POST", "/internal/v1/events", { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } })).status).toBe(200);
    const r = await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${agent}/evidence?format=${format}`);
    expect(r.status).toBe(200);
    genuine = r.body.data;
    const chain = (await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem;
    rootPem = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)![1]!;
    write("root.pem", rootPem);
  });
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const shrinkAmounts = (e: Json) => {
    const d = e.data as { event?: { amount?: number } } | undefined;
    if (d?.event?.amount) d.event.amount = 25;
  };

  it("the genuine bundle verifies against the pinned root", async () => {
    const r = await verify(write("genuine.json", genuine), "--root", join(dir, "root.pem"));
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it("fake entries with a tree head signed by an agent key through POST /v1/agents/:id/sign → exit 1, the signer is not an audit certificate", async () => {
    const { bundle, body } = await forge(genuine, shrinkAmounts, tenantA);
    const message = treeHeadMessage(body);
    const signed = await o.json<{ data: { signature_b64: string } }>("POST", `/v1/agents/${agent}/sign`, { body: { payload_b64: Buffer.from(message).toString("base64") } });
    let signature: string;
    if (signed.status === 200) signature = signed.body.data.signature_b64;
    else {
      // The route refuses tree-head messages (domain separation); an agent runtime that holds its
      // own key still can sign them, so the verifier must refuse the key, not only the route.
      expect(signed.status).toBe(422);
      const raw = await o.services.keys.sign(agentKeyRef, enc.encode(message));
      if (!raw.ok) throw new Error(raw.error.message);
      signature = Buffer.from(raw.value).toString("base64");
    }
    const agentPem = genuine.certificates.find((c) => c.serial_number === serial)!.certificate_pem;
    Object.assign(bundle.tree_head, { signature, signer_serial: serial, signer_certificate_pem: agentPem });
    const r = await verify(write("agent-signed.json", { data: bundle }), "--root", join(dir, "root.pem"));
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^FAILED: /m);
    expect(r.stdout).toMatch(/tree-head signer.*not an audit certificate/);
  });

  it("/sign refuses to sign a tree-head message (domain separation) → 422", async () => {
    const message = treeHeadMessage({ tenant_id: tenantA, tree_size: 1, root_hash: "00".repeat(32), timestamp: new Date().toISOString() });
    const r = await o.json<{ type: string; detail: string }>("POST", `/v1/agents/${agent}/sign`, { body: { payload_b64: Buffer.from(message).toString("base64") } });
    expect(r.status).toBe(422);
    expect(r.body.detail).toMatch(/tree-head/);
  });

  it("a foreign tenant id (tenant B) in tenant.id and tree_head.tenant_id, signed by tenant A's own audit key → exit 1, tenant binding named", async () => {
    const { bundle, body } = await forge(genuine, (e) => shrinkAmounts(e), tenantB);
    const signer = await o.services.ca.auditSignerFor({ id: tenantA, name: "default" });
    if (!signer.ok) throw new Error(signer.error.message);
    const sig = await o.services.keys.sign(signer.value.record.keyRef, enc.encode(treeHeadMessage(body)));
    if (!sig.ok) throw new Error(sig.error.message);
    Object.assign(bundle.tree_head, {
      signature: Buffer.from(sig.value).toString("base64"), signer_serial: signer.value.record.serialNumber, signer_certificate_pem: signer.value.record.certificatePem,
    });
    const r = await verify(write("foreign-tenant.json", { data: bundle }), "--root", join(dir, "root.pem"));
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`tenant ${tenantB}`));
    expect(r.stdout).toMatch(/bound to tenant|names tenant|tenant binding/);
  });

  it("a self-made root, issuing CA and audit certificate, no --root → exit 1, the unpinned anchor and its fingerprint are named", async () => {
    const pki = await selfMadePki("default", serial);
    const { bundle, body } = await forge(genuine, shrinkAmounts, tenantA);
    const sig = await webcrypto.subtle.sign("RSASSA-PKCS1-v1_5", pki.auditKey, enc.encode(treeHeadMessage(body)));
    bundle.ca_chain_pem = `${pki.issuing.toString("pem")}\n${pki.root.toString("pem")}\n`;
    Object.assign(bundle.tree_head, { signature: Buffer.from(sig).toString("base64"), signer_serial: "03", signer_certificate_pem: pki.audit.toString("pem") });
    for (const c of bundle.certificates) c.certificate_pem = pki.agentCert.toString("pem");
    const r = await verify(write("self-made-root.json", { data: bundle }));
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/not pinned/);
    expect(r.stdout).toMatch(/--root/);
    expect(r.stdout).toMatch(/SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    const pinned = await verify(join(dir, "self-made-root.json"), "--root", join(dir, "root.pem"));
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toContain("is not the given --root");
  });

  it("the genuine bundle without --root (and no root saved by kakunin init) → exit 1, not VERIFIED", async () => {
    const r = await verify(join(dir, "genuine.json"));
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/^VERIFIED/m);
    expect(r.stdout).toMatch(/trust anchor not pinned/);
  });
});
