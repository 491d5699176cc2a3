/**
 * A 100k-entry evidence bundle built in memory, byte-for-byte in the origin's format: entries
 * canonicalised and hash-chained as appendAudit writes them, proofs from a MemoryNodeStore (the
 * same code evidence.ts uses), a throwaway CA chain and a tree head signed with a throwaway RSA
 * key. Going around the database keeps the run short; the verifier cannot tell the difference.
 */
import { webcrypto } from "node:crypto";
import {
  canonicalize, EVIDENCE_FORMAT, inclusionProof, leafHash, MemoryNodeStore, rootHash, toHex, treeHeadMessage,
  type EvidenceBundle, type EvidenceEntry,
} from "@kakunin/shared";
import { x509 } from "../../cli/src/x509.ts";
import { eventData, newAgentId, rng } from "./rows.ts";

const ALG = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const DAY = 86_400_000;
const enc = new TextEncoder();

type Keys = Awaited<ReturnType<typeof newKeys>>;
const newKeys = () => webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);

async function issue(serial: string, subject: string, keys: Keys, issuer: { name: string; keys: Keys }, ca: boolean, notBefore: Date) {
  return x509.X509CertificateGenerator.create({
    serialNumber: serial, subject, issuer: issuer.name, notBefore, notAfter: new Date(notBefore.getTime() + 365 * DAY),
    publicKey: keys.publicKey, signingKey: issuer.keys.privateKey, signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(ca, undefined, true)],
  });
}

export async function buildBundle(count: number): Promise<EvidenceBundle> {
  const notBefore = new Date(Date.now() - DAY);
  const [rootKeys, issuingKeys, agentKeys, signerKeys] = await Promise.all([newKeys(), newKeys(), newKeys(), newKeys()]);
  const root = await issue("01", "CN=Bench Root CA", rootKeys, { name: "CN=Bench Root CA", keys: rootKeys }, true, notBefore);
  const issuer = { name: "CN=Bench Issuing CA", keys: issuingKeys };
  const issuing = await issue("02", issuer.name, issuingKeys, { name: root.subject, keys: rootKeys }, true, notBefore);
  const serial = "4a1b2c3d4e5f60718293a4b5c6d7e8f9";
  const agentCert = await issue(serial, "CN=bench-agent", agentKeys, issuer, false, notBefore);
  const signer = await issue("5e", "CN=Bench Audit Signer", signerKeys, issuer, false, notBefore);

  const tenantId = newAgentId();
  const agentId = newAgentId();
  const rand = rng(3);
  const tree = new MemoryNodeStore();
  const raw: { kind: string; canonical: string; leaf: Uint8Array }[] = [];
  let prev: string | null = null;
  for (let index = 0; index < count; index++) {
    const at = new Date(notBefore.getTime() + 60_000 + index);
    const issued = index === 0;
    const kind = issued ? "certificate.issued" : "event.ingested";
    const data = issued
      ? { serial_number: serial, not_before: agentCert.notBefore.toISOString(), not_after: agentCert.notAfter.toISOString() }
      : eventData(index, serial, at, rand);
    const canonical = canonicalize({ v: 1, log: tenantId, index, kind, at: at.toISOString(), actor: { type: "edge", id: "agent-monitor" }, agent_id: agentId, data, prev });
    const leaf = await leafHash(enc.encode(canonical));
    await tree.append(leaf);
    raw.push({ kind, canonical, leaf });
    prev = toHex(leaf);
  }
  const entries: EvidenceEntry[] = [];
  for (const [index, r] of raw.entries()) {
    const path = await inclusionProof(index, count, tree);
    entries.push({ index, kind: r.kind, leaf_hash: toHex(r.leaf), canonical: r.canonical, audit_path: path.map(toHex) });
  }
  const body = { tenant_id: tenantId, tree_size: count, root_hash: toHex(await rootHash(count, tree)), timestamp: new Date().toISOString() };
  const signature = await webcrypto.subtle.sign(ALG, signerKeys.privateKey, enc.encode(treeHeadMessage(body)));
  const pem = (c: x509.X509Certificate) => `${c.toString("pem")}\n`;
  return {
    format: EVIDENCE_FORMAT,
    generated_at: body.timestamp,
    tenant: { id: tenantId, name: "bench" },
    agent: { id: agentId, name: "bench-agent" },
    window: { from: null, to: null },
    ca_chain_pem: pem(issuing) + pem(root),
    certificates: [{
      id: newAgentId(), serial_number: serial, certificate_pem: pem(agentCert), status: "active",
      issued_at: agentCert.notBefore.toISOString(), expires_at: agentCert.notAfter.toISOString(), revoked_at: null, revocation_reason: null,
    }],
    tree_head: {
      ...body, signature: Buffer.from(signature).toString("base64"), signature_algorithm: "RSASSA_PKCS1_V1_5_SHA_256",
      signer_serial: signer.serialNumber, signer_certificate_pem: pem(signer),
    },
    entries,
    archive: [],
  };
}
