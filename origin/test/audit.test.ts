import { webcrypto } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalize, kakuninOids, TREE_HEAD_CONTEXT, treeHeadMessage, type EvidenceBundle, type EvidenceBundleV2 } from "@kakunin/shared";
import { createLocalArchive } from "../src/archive/local.ts";
import { sqlState } from "../src/db/index.ts";
import { appendAudit } from "../src/audit/append.ts";
import { Archiver } from "../src/audit/archiver.ts";
import { SYSTEM } from "../src/audit/types.ts";
import { x509 } from "../src/ca/x509.ts";
import { agentBody, dbKinds, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";
import { opensslVerify, splitPem } from "./openssl.ts";
import { leaf, rootFromMultiproofRfc, verifyConsistencyRfc, verifyInclusionRfc } from "./rfc9162.ts";

interface Entry { index: number; kind: string; agent_id: string | null; leaf_hash: string; canonical: string; entry: { prev: string | null; actor: { type: string; role?: string } } }
interface Sth { tree_size: number; root_hash: string; timestamp: string; signature: string; signer_certificate_pem: string; tenant_id: string }
const hex = (s: string) => Buffer.from(s, "hex");

describe.each(dbKinds())("audit trail on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => { o = await startTestOrigin(kind); });
  afterAll(async () => { await o.close(); });

  const entries = async (q = "") => (await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?limit=1000${q}`)).body.data;

  it("every operation is an entry, attributed to its API key, hash-chained", async () => {
    const auditor = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "aud", role: "auditor" } })).body.data.key;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
    await o.json("POST", `/v1/agents/${agent}/sign`, { body: { payload_b64: "aGk=" } });
    await o.json("POST", `/v1/agents/${agent}/ingest-tokens`);
    await o.json("PATCH", `/v1/agents/${agent}`, { body: { scopes: ["orders.place"] } });
    await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "audit test" } });
    await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: true } });
    const mine = await entries(`&agent_id=${agent}`);
    expect(mine.map((e) => e.kind)).toEqual(["agent.created", "key.created", "certificate.issued", "key.signed", "ingest_token.issued", "agent.updated", "certificate.revoked"]);
    expect(mine.every((e) => e.entry.actor.type === "api_key" && e.entry.actor.role === "admin")).toBe(true);
    const all = await o.json<{ data: Entry[] }>("GET", "/v1/audit/entries?limit=1000", { key: auditor });
    expect(all.status).toBe(200);
    const kinds = new Set(all.body.data.map((e) => e.kind));
    for (const k of ["tenant.created", "ca.created", "api_key.created", "policy.updated"]) expect(kinds, k).toContain(k);
    // The hash chain: each entry names its predecessor's leaf hash; leaves hash the canonical text.
    const log = all.body.data;
    log.forEach((e, i) => {
      expect(e.index).toBe(i);
      expect(leaf(Buffer.from(e.canonical)).toString("hex")).toBe(e.leaf_hash);
      expect(e.entry.prev).toBe(i === 0 ? null : log[i - 1]!.leaf_hash);
    });
    // Issuers cannot read the audit log.
    const issuer = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "iss", role: "issuer" } })).body.data.key;
    expect((await o.json("GET", "/v1/audit/entries", { key: issuer })).status).toBe(403);
  });

  it("the database refuses UPDATE, DELETE and TRUNCATE of audit rows", async () => {
    // Make sure every table has rows: row triggers do not fire for statements that match none.
    // Nodes are stored from level 4 up (audit/nodes.ts), so the log needs 16 entries for one.
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    await o.services.db.transaction((tx) => appendAudit(tx, tenantId, Array.from({ length: 16 }, () => ({
      kind: "policy.updated" as const, actor: SYSTEM("test"), data: {}, at: new Date(),
    }))));
    expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200);
    for (const stmt of [
      sql`update audit_entries set kind = 'forged' where idx = 0`,
      sql`delete from audit_entries where idx = 0`,
      sql`truncate audit_entries`,
      sql`update audit_nodes set hash = '\\x00' where level = 4`,
      sql`delete from audit_nodes`,
      sql`delete from audit_tree_heads`,
    ]) {
      let caught: unknown;
      try {
        await o.services.db.execute(stmt);
      } catch (e) {
        caught = e;
      }
      // drizzle wraps the driver's error; the trigger's SQLSTATE and message are in the cause.
      expect(sqlState(caught)).toBe("42501");
      expect(String((caught as { cause?: { message?: string } }).cause?.message)).toMatch(/append-only/);
    }
    expect((await entries()).length).toBeGreaterThan(0);
  });

  it("signed tree heads verify with the audit certificate, which chains to the CA", async () => {
    const r = await o.json<{ data: Sth }>("GET", "/v1/audit/tree-head");
    expect(r.status).toBe(200);
    const sth = r.body.data;
    const cert = new x509.X509Certificate(sth.signer_certificate_pem);
    const key = await cert.publicKey.export({ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, ["verify"], webcrypto as unknown as Parameters<x509.PublicKey["export"]>[2]);
    const msg = new TextEncoder().encode(treeHeadMessage(sth));
    // Domain-separated: no certificate, CRL or OCSP response (DER, 0x30…) starts like this.
    expect(treeHeadMessage(sth).startsWith(TREE_HEAD_CONTEXT)).toBe(true);
    expect(await webcrypto.subtle.verify("RSASSA-PKCS1-v1_5", key as unknown as webcrypto.CryptoKey, Buffer.from(sth.signature, "base64"), msg)).toBe(true);
    const forged = new TextEncoder().encode(treeHeadMessage({ ...sth, tree_size: sth.tree_size + 1 }));
    expect(await webcrypto.subtle.verify("RSASSA-PKCS1-v1_5", key as unknown as webcrypto.CryptoKey, Buffer.from(sth.signature, "base64"), forged)).toBe(false);
    const [issuing, root] = splitPem((await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem);
    expect(opensslVerify(root!, sth.signer_certificate_pem, issuing).output).toContain(": OK");
    // Asking again without new entries returns the same head (no needless signatures).
    expect((await o.json<{ data: Sth }>("GET", "/v1/audit/tree-head")).body.data.signature).toBe(sth.signature);
  });

  it("inclusion and consistency proofs verify with an independent RFC 9162 verifier", async () => {
    const before = (await o.json<{ data: Sth }>("GET", "/v1/audit/tree-head")).body.data;
    for (let i = 0; i < 5; i++) await o.json("POST", "/v1/agents", { body: agentBody({ name: `proof-${i}` }) });
    const after = (await o.json<{ data: Sth }>("GET", "/v1/audit/tree-head")).body.data;
    expect(after.tree_size).toBe(before.tree_size + 5);
    const log = await entries();
    for (const e of [0, 1, Math.floor(after.tree_size / 2), after.tree_size - 1]) {
      const p = await o.json<{ data: { audit_path: string[]; root_hash: string; leaf_hash: string } }>("GET", `/v1/audit/proofs/inclusion?entry=${e}&tree_size=${after.tree_size}`);
      expect(p.body.data.root_hash).toBe(after.root_hash);
      expect(p.body.data.leaf_hash).toBe(log[e]!.leaf_hash);
      expect(verifyInclusionRfc(e, after.tree_size, hex(log[e]!.leaf_hash), p.body.data.audit_path.map(hex), hex(after.root_hash))).toBe(true);
      // A changed entry no longer verifies.
      const tampered = leaf(Buffer.from(log[e]!.canonical.replace(/"kind":"/, '"kind":"x')));
      expect(verifyInclusionRfc(e, after.tree_size, tampered, p.body.data.audit_path.map(hex), hex(after.root_hash))).toBe(false);
    }
    const c = await o.json<{ data: { proof: string[]; first_root: string; second_root: string } }>("GET", `/v1/audit/proofs/consistency?from=${before.tree_size}&to=${after.tree_size}`);
    expect(c.body.data.first_root).toBe(before.root_hash);
    expect(verifyConsistencyRfc(before.tree_size, after.tree_size, hex(before.root_hash), hex(after.root_hash), c.body.data.proof.map(hex))).toBe(true);
    expect(verifyConsistencyRfc(before.tree_size, after.tree_size, hex(before.root_hash).fill(7), hex(after.root_hash), c.body.data.proof.map(hex))).toBe(false);
    for (const q of ["entry=-1", "entry=abc", `entry=0&tree_size=${after.tree_size + 100}`]) {
      expect((await o.json("GET", `/v1/audit/proofs/inclusion?${q}`)).status, q).toBe(422);
    }
    expect((await o.json("GET", `/v1/audit/proofs/inclusion?entry=${after.tree_size + 5}`)).status).toBe(404);
    expect((await o.json("GET", `/v1/audit/proofs/consistency?from=5&to=2`)).status).toBe(422);
  });

  it("numbers in the query are plain decimals: an empty, hex, signed, exponent or padded value is a 422 naming it, never a guess", async () => {
    const cases: [string, string][] = [
      ["/v1/audit/proofs/inclusion?entry=", "entry"],
      ["/v1/audit/proofs/inclusion?entry=0x1", "entry"],
      ["/v1/audit/proofs/inclusion?entry=%2B5", "entry"],
      ["/v1/audit/proofs/inclusion?entry=%200", "entry"],
      ["/v1/audit/proofs/inclusion?entry=01", "entry"],
      ["/v1/audit/proofs/inclusion?entry=0&tree_size=1.0", "tree_size"],
      ["/v1/audit/proofs/consistency?from=1e1&to=20", "from"],
      ["/v1/audit/entries?from=0b1", "from"],
      ["/v1/audit/entries?limit=1.5", "limit"],
      ["/v1/agents?limit=-1", "limit"],
      ["/v1/agents?limit=Infinity", "limit"],
      ["/v1/agents/00000000-0000-4000-8000-000000000000/evidence?since_size=1e3", "since_size"],
    ];
    for (const [path, field] of cases) {
      const r = await o.json<{ errors?: { path: string }[] }>("GET", path);
      expect({ path, status: r.status }).toEqual({ path, status: 422 });
      expect(r.body.errors!.map((e) => e.path), path).toContain(field);
    }
    // Plain decimals still work, and the defaults still apply.
    expect((await o.json("GET", "/v1/audit/proofs/inclusion?entry=0")).status).toBe(200);
    expect((await o.json<{ data: unknown[] }>("GET", "/v1/audit/entries?from=0&limit=2")).body.data).toHaveLength(2);
    expect((await o.json("GET", "/v1/agents")).status).toBe(200);
  });

  it("a query value that is not text (NUL, bytes that are not UTF-8) is a 422 naming it, not a 500 from the database", async () => {
    for (const q of ["kind=%00", "kind=a%00", "kind=%ED%A0%80", "agent_id=%FF"]) {
      const r = await o.json<{ type: string; errors?: { path: string }[] }>("GET", `/v1/audit/entries?${q}`);
      expect({ q, status: r.status }).toEqual({ q, status: 422 });
      expect(r.body.errors!.map((e) => e.path)).toEqual([q.split("=")[0]]);
    }
    expect((await o.json("GET", "/v1/agents?cursor=%00")).status).toBe(422);
    // Ordinary non-ASCII text is an unknown kind like any other: 422 naming it, never a 500.
    const jp = await o.json<{ errors?: { path: string }[] }>("GET", `/v1/audit/entries?kind=${encodeURIComponent("監査")}`);
    expect([jp.status, jp.body.errors?.[0]?.path]).toEqual([422, "kind"]);
  });

  it("a kind filter naming no kind the origin writes is a 422 listing the kinds, not an empty list an auditor reads as 'never happened'", async () => {
    const typo = await o.json<{ type: string; errors?: { path: string; message: string }[] }>("GET", "/v1/audit/entries?kind=certificate.revoke");
    expect(typo.status).toBe(422);
    expect(typo.body.errors![0]!.path).toBe("kind");
    expect(typo.body.errors![0]!.message).toContain("certificate.revoked");
    expect((await o.json("GET", "/v1/audit/entries?kind=certificate.revoked")).status).toBe(200);
  });

  it("evidence bundle (v3): agent, certificates, chain, entries verbatim with one multiproof against a signed head", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    await o.json("POST", `/v1/agents/${agent}/certify`);
    const res = await o.request("GET", `/v1/agents/${agent}/evidence`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const b = (JSON.parse(text) as { data: EvidenceBundle }).data;
    expect(b.format).toBe("kakunin-evidence/3");
    expect(b.agent.id).toBe(agent);
    expect(b.certificates).toHaveLength(1);
    expect(splitPem(b.ca_chain_pem)).toHaveLength(2);
    const entries = b.entries.filter((e) => typeof e !== "string");
    // The export's own checkpoint closes the agent's chain at the very end of the signed tree.
    expect(entries.map((e) => e.kind)).toEqual(["agent.created", "key.created", "certificate.issued", "evidence.exported"]);
    expect(entries.at(-1)!.index).toBe(b.tree_head.tree_size - 1);
    const chainFields = entries.map((x) => [x.v, x.agent_seq, x.lifecycle_count, "lifecycle_prev" in x]);
    expect(chainFields).toEqual([[2, 0, 1, true], [2, 1, 2, true], [2, 2, 3, true], [2, 3, 3, false]]);
    // Each entry is in the file byte for byte as it was hashed: its canonical text, unescaped.
    for (const e of entries) expect(text).toContain(canonicalize(e));
    // One multiproof: the gap strings' nodes and the entries' leaves lead to the signed root (independent RFC 9162 code).
    const leaves = new Map(entries.map((e) => [e.index, leaf(Buffer.from(canonicalize(e)))]));
    const nodes = b.entries.filter((e) => typeof e === "string").flatMap((g) => {
      const raw = Buffer.from(g, "base64");
      return Array.from({ length: raw.length / 32 }, (_, i) => raw.subarray(i * 32, i * 32 + 32));
    });
    expect(nodes.length).toBeGreaterThan(0);
    expect(rootFromMultiproofRfc(b.tree_head.tree_size, leaves, nodes)?.toString("hex")).toBe(b.tree_head.root_hash);
    expect(rootFromMultiproofRfc(b.tree_head.tree_size, leaves, nodes.slice(1))).toBeNull();
    // The signer is the tenant's audit certificate: audit EKU, tenant id bound, and so is the issuing CA.
    const signer = new x509.X509Certificate(b.tree_head.signer_certificate_pem);
    const oids = kakuninOids();
    expect(signer.getExtension(x509.ExtendedKeyUsageExtension)!.usages.map(String)).toEqual([oids.ekuAuditTreeHeadSigning]);
    const tenantOf = (c: x509.X509Certificate) => Buffer.from(c.getExtension(oids.tenantExtension)!.value).subarray(2).toString();
    expect(tenantOf(signer)).toBe(b.tenant.id);
    expect(tenantOf(new x509.X509Certificate(splitPem(b.ca_chain_pem)[0]!))).toBe(b.tenant.id);
    expect(signer.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value)).toEqual([`urn:kakunin:tenant:${b.tenant.id}`]);
    expect((await o.json("GET", `/v1/agents/${crypto.randomUUID()}/evidence`)).status).toBe(404);
    expect((await o.json("GET", `/v1/agents/${agent}/evidence?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`)).status).toBe(422);
    expect((await o.json("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/1`)).status).toBe(422);
  });

  it("evidence bundle v2 on request (format=kakunin-evidence/2): entries with their own proofs against a signed head", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    await o.json("POST", `/v1/agents/${agent}/certify`);
    const r = await o.json<{ data: EvidenceBundleV2 }>("GET", `/v1/agents/${agent}/evidence?format=kakunin-evidence/2`);
    expect(r.status).toBe(200);
    const b = r.body.data;
    expect(b.format).toBe("kakunin-evidence/2");
    expect(b.entries.map((e) => e.kind)).toEqual(["agent.created", "key.created", "certificate.issued", "evidence.exported"]);
    expect(b.entries.at(-1)!.index).toBe(b.tree_head.tree_size - 1);
    for (const e of b.entries) {
      expect(verifyInclusionRfc(e.index, b.tree_head.tree_size, leaf(Buffer.from(e.canonical)), e.audit_path.map(hex), hex(b.tree_head.root_hash))).toBe(true);
    }
  });

  it("the archiver seals batches of canonical entries and never writes one twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kakunin-archive-"));
    const store = createLocalArchive(dir);
    let puts = 0;
    const counting = { ...store, kind: store.kind, head: store.head.bind(store), get: store.get.bind(store), put: (...a: Parameters<typeof store.put>) => { puts++; return store.put(...a); } };
    const archiver = new Archiver(o.services, counting, { batchSize: 4, maxAgeMs: 0, log: () => undefined });
    expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200); // at least one signed head to archive
    const first = await archiver.runOnce();
    expect(first.failed).toBe(0);
    expect(first.archived).toBeGreaterThan(0);
    const putsAfterFirst = puts;
    // A second pass with nothing new writes nothing.
    expect(await archiver.runOnce()).toEqual({ sealed: 0, archived: 0, failed: 0 });
    expect(puts).toBe(putsAfterFirst);
    // Objects hold exactly the canonical entries, in order, covering the whole log.
    const files = readdirSync(join(dir, "audit"), { recursive: true }).map(String).filter((f) => f.endsWith(".jsonl")).sort();
    const lines = files.flatMap((f) => readFileSync(join(dir, "audit", f), "utf8").trimEnd().split("\n"));
    const log = await entries();
    expect(lines).toEqual(log.map((e) => e.canonical));
    // Signed tree heads are archived too, each as the JSON `audit verify --since-tree-head` reads.
    const heads = readdirSync(join(dir, "audit"), { recursive: true }).map(String).filter((f) => /tree-heads\/\d{12}-[0-9a-f]{16}\.json$/.test(f));
    expect(heads.length).toBeGreaterThan(0);
    const head = JSON.parse(readFileSync(join(dir, "audit", heads.sort().at(-1)!), "utf8")) as { tree_size: number; signature: string; signer_certificate_pem: string };
    const [row] = rowsOf<{ n: string }>(await o.services.db.execute(sql`select count(*)::text as n from audit_tree_heads`));
    expect(heads).toHaveLength(Number(row!.n));
    expect(head.signer_certificate_pem).toContain("BEGIN CERTIFICATE");
  });

  it("a batch planted at its key under the right sha256 metadata but with other bytes is not recorded as archived", async () => {
    for (let i = 0; i < 4; i++) await o.json("POST", "/v1/agents", { body: agentBody({ name: `planted-${i}` }) });
    const dir = mkdtempSync(join(tmpdir(), "kakunin-archive-planted-"));
    const store = createLocalArchive(dir);
    // Seal only (the store is "not ready"), so the keys and hashes the upload will use are known.
    const sealer = new Archiver(o.services, store, { batchSize: 3, maxAgeMs: 0, log: () => undefined, prepare: async () => ({ ok: false, error: { message: "not yet" } }) });
    await sealer.runOnce();
    const due = rowsOf<{ object_key: string; sha256: string }>(await o.services.db.execute(sql`select object_key, sha256 from audit_batches where archived_at is null order by tenant_id, first_idx`));
    expect(due.length).toBeGreaterThan(0);
    // An insider with write access to the store plants forged bytes labelled with the real hash.
    for (const b of due) {
      const file = join(dir, ...b.object_key.split("/"));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `{"forged":${JSON.stringify(b.object_key)}}\n`);
      writeFileSync(`${file}.meta.json`, JSON.stringify({ sha256: b.sha256, retainUntil: new Date(Date.now() + 86_400_000).toISOString() }));
    }
    const archiver = new Archiver(o.services, store, { batchSize: 3, maxAgeMs: 0, log: () => undefined });
    const r = await archiver.runOnce();
    expect(r.archived).toBe(0);
    expect(r.failed).toBeGreaterThan(0);
    const still = rowsOf<{ n: string }>(await o.services.db.execute(sql`select count(*)::text as n from audit_batches where archived_at is null`));
    expect(Number(still[0]!.n)).toBe(due.length);
  });

  it("two archivers on one database never upload the same batch twice; a store that was not ready is prepared later", async () => {
    for (let i = 0; i < 6; i++) await o.json("POST", "/v1/agents", { body: agentBody({ name: `lease-${i}` }) });
    const dir = mkdtempSync(join(tmpdir(), "kakunin-archive-lease-"));
    const store = createLocalArchive(dir);
    const puts: string[] = [];
    // A slow store widens the window in which two uploaders could both decide to PUT.
    const slow = { ...store, kind: store.kind, head: store.head.bind(store), get: store.get.bind(store),
      put: async (...a: Parameters<typeof store.put>) => { puts.push(a[0]); await new Promise((r) => setTimeout(r, 50)); return store.put(...a); } };
    let ready = false;
    const a = new Archiver(o.services, slow, { batchSize: 3, maxAgeMs: 0, log: () => undefined, prepare: async () => (ready ? { ok: true } : { ok: false, error: { message: "bucket unreachable" } }) });
    const b = new Archiver(o.services, slow, { batchSize: 3, maxAgeMs: 0, log: () => undefined });
    const notReady = await a.runOnce();
    expect(notReady.failed).toBe(1);
    expect(puts).toHaveLength(0);
    ready = true;
    await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
    for (let i = 0; i < 5 && (await o.services.db.execute(sql`select 1 from audit_batches where archived_at is null`).then((r) => rowsOf(r).length)) > 0; i++) {
      await Promise.all([a.runOnce(), b.runOnce()]);
    }
    expect(new Set(puts).size).toBe(puts.length);
  });
});