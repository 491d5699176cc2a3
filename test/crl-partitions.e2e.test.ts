import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "../origin/test/raw-sql.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, rowsOf, startTestOrigin, type TestOrigin } from "../origin/test/harness.ts";
import { httpEdgeClient } from "../origin/src/publish/edge-client.ts";
import { Publisher } from "../origin/src/publish/publisher.ts";
import { keyManagerSigners } from "../origin/src/publish/signers.ts";
import { x509 } from "../origin/src/ca/x509.ts";
import { startEdge, systemFixture, type Proc } from "./support/system.ts";

/**
 * A tenant past the old CRL size cliff (70,000 unexpired revocations; one CRL of them was ~3.5 MB
 * of DER, over the edge's 4 MiB base64 field cap, and was dead-lettered), through the real edge
 * (workerd): every CRL reaches the edge, each certificate's CRL Distribution Point serves a small
 * partition CRL that `openssl verify -crl_check` uses, and the historic URL keeps working.
 */
const BULK = 70_000;
const LEGACY = 10;
interface Issued {
  id: string;
  serial_number: string;
  certificate_pem: string;
}

/** openssl with stdout and stderr together (`crl -verify` and `verify` report on stderr). */
function openssl(args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

const cdpOf = (pem: string): string => {
  const ext = new x509.X509Certificate(pem).getExtension(x509.CRLDistributionPointsExtension);
  const name = ext?.distributionPoints[0]?.distributionPoint?.fullName?.[0];
  if (!name?.uniformResourceIdentifier) throw new Error("no CRL Distribution Point");
  return name.uniformResourceIdentifier;
};

describe("CRLs past the old size cliff", () => {
  const fx = systemFixture();
  const dir = mkdtempSync(join(tmpdir(), "kakunin-crl-parts-"));
  const file = (n: string) => join(dir, n);
  let edge: Proc;
  let o: TestOrigin;
  let publisher: Publisher;
  let tenant: { id: string; name: string };
  const drain = async () => {
    for (let i = 0; i < 50; i++) {
      const r = await publisher.drainOnce();
      if ("error" in r) throw new Error(r.error);
      if (!r.pending) return;
    }
  };
  const crlAt = async (url: string, name: string) => {
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    const der = new Uint8Array(await res.arrayBuffer());
    writeFileSync(file(`${name}.der`), der);
    expect(openssl(["crl", "-inform", "DER", "-in", `${name}.der`, "-out", `${name}.pem`], dir).code).toBe(0);
    const verified = openssl(["crl", "-in", `${name}.pem`, "-noout", "-verify", "-CAfile", "chain.pem"], dir);
    expect(verified.out).toMatch(/verify OK/);
    const text = openssl(["crl", "-in", `${name}.pem`, "-noout", "-text"], dir).out;
    return { bytes: der.length, entries: (text.match(/Serial Number:/g) ?? []).length, text };
  };
  const verifyWith = (crl: string, leaf: string) =>
    openssl(["verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "-CRLfile", `${crl}.pem`, leaf], dir);

  beforeAll(async () => {
    edge = await startEdge({ persistDir: fx.dir, originUrl: "http://127.0.0.1:9", secret: fx.secret });
    o = await startTestOrigin("pglite", { env: { KAKUNIN_EDGE_URL: edge.url, KAKUNIN_EDGE_SECRET: fx.secret } });
    publisher = new Publisher(o.services, httpEdgeClient(edge.url, o.services.edgeSecret, 60_000), keyManagerSigners(o.services), { log: () => {} });
    tenant = (await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant")).body.data;
    const ca = await o.services.ca.issuingFor(tenant);
    const root = await o.services.ca.root();
    if (!ca.ok || !root.ok) throw new Error("no CA");
    writeFileSync(file("root.pem"), root.value.record.certificatePem);
    writeFileSync(file("issuing.pem"), ca.value.record.certificatePem);
    writeFileSync(file("chain.pem"), ca.value.record.certificatePem + root.value.record.certificatePem);
  }, 180_000);
  afterAll(async () => {
    await o?.close();
    await edge?.stop();
    fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const certify = async (name: string): Promise<Issued> => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name }) })).body.data.id;
    const c = await o.json<{ data: Issued }>("POST", `/v1/agents/${id}/certify`);
    expect(c.status).toBe(201);
    return c.body.data;
  };

  it("a small tenant: the historic URL serves the full CRL (no IDP); the certificate's CDP names its partition", async () => {
    const a = await certify("small-a");
    const b = await certify("small-b");
    expect((await o.json("POST", `/v1/certificates/${b.id}/revoke`, { body: { reason: "test", reason_code: "keyCompromise" } })).status).toBe(200);
    await drain();
    const ca = await o.services.ca.issuingFor(tenant);
    if (!ca.ok) throw new Error("no CA");
    const issuerUrl = `${edge.url}/v1/crl/${tenant.id}/${ca.value.record.serialNumber}`;
    expect(cdpOf(a.certificate_pem)).toBe(`${issuerUrl}/0`);
    const full = await crlAt(issuerUrl, "small-full");
    expect(full.text).not.toMatch(/Issuing Distribution Point/);
    expect(full.entries).toBe(1);
    // The tenant-level URL (and /v1/crl for the operator tenant) serve the same full CRL.
    expect((await crlAt(`${edge.url}/v1/crl/${tenant.id}`, "small-tenant")).entries).toBe(1);
    const part = await crlAt(`${issuerUrl}/0`, "small-p0");
    expect(part.text).toMatch(/Issuing Distribution Point: critical/);
    expect(part.text).toContain(`URI:${issuerUrl}/0`);
    writeFileSync(file("a.pem"), a.certificate_pem);
    writeFileSync(file("b.pem"), b.certificate_pem);
    // A full CRL covers every certificate of the issuer; the partition's covers its own.
    for (const crl of ["small-full", "small-p0"]) {
      expect(verifyWith(crl, "a.pem").out).toMatch(/a\.pem: OK/);
      expect(verifyWith(crl, "b.pem").out).toMatch(/certificate revoked/);
    }
  });

  it(`${BULK} unexpired revocations: every CRL reaches the edge, partitions stay small, openssl checks against the CDP's CRL`, async () => {
    const ca = await o.services.ca.issuingFor(tenant);
    if (!ca.ok) throw new Error("no CA");
    const issuerId = ca.value.record.id;
    const agentId = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "bulk-owner" }) })).body.data.id;
    // Revoked certificates written straight into the database, as years of model-hash changes would
    // leave them: partitioned by issuance number like certify does, plus a few from before partitions.
    const partitioned =
      rowsOf(await o.services.db.execute(sql`select 1 from information_schema.columns where table_name = 'certificates' and column_name = 'crl_partition'`))
        .length > 0;
    const { CRL_PARTITION_SIZE } = await import("../origin/src/ca/crl-partitions.ts").catch(() => ({ CRL_PARTITION_SIZE: 0 }));
    const issued = Number(
      rowsOf<{ n: string }>(
        await o.services.db.execute(partitioned ? sql`select issued_count as n from authorities where id = ${issuerId}` : sql`select 0 as n`),
      )[0]!.n,
    );
    const bulk = (from: number, count: number, salt: string, partition: boolean) => sql`
      insert into certificates (tenant_id, agent_id, issuer_id, serial_number, certificate_pem, key_ref, model_name, model_version, model_hash,
        status, issued_at, expires_at, revoked_at, revocation_code ${partitioned ? sql`, crl_partition` : sql``})
      select ${tenant.id}, ${agentId}, ${issuerId}, '5' || substr(md5(${salt} || g::text), 1, 31), 'bulk', 'bulk', 'm', '1', ${`sha256:${"cd".repeat(32)}`},
        'revoked', now() - interval '1 day', now() + interval '300 days', now() - interval '1 hour', 'superseded'
        ${partitioned ? (partition ? sql`, ((g - 1) / ${CRL_PARTITION_SIZE})::int` : sql`, null`) : sql``}
      from generate_series(${from}::int, ${from + count - 1}::int) g`;
    await o.services.db.execute(bulk(1, LEGACY, "legacy", false));
    await o.services.db.execute(bulk(issued + 1, BULK, "bulk", true));
    if (partitioned) await o.services.db.execute(sql`update authorities set issued_count = ${issued + BULK} where id = ${issuerId}`);

    const good = await certify("after-good");
    const bad = await certify("after-bad");
    expect((await o.json("POST", `/v1/certificates/${bad.id}/revoke`, { body: { reason: "test", reason_code: "keyCompromise" } })).status).toBe(200);
    const t0 = performance.now();
    await drain();
    const publishMs = performance.now() - t0;
    // Nothing was dead-lettered: no CRL was too big for the edge.
    const letters = (await o.json<{ data: { kind: string; ref: string }[] }>("GET", "/v1/admin/dead-letters")).body.data;
    expect(letters.filter((l) => l.kind === "publish")).toEqual([]);

    const issuerUrl = `${edge.url}/v1/crl/${tenant.id}/${ca.value.record.serialNumber}`;
    const cdp = cdpOf(good.certificate_pem);
    expect(cdpOf(bad.certificate_pem)).toBe(cdp);
    const last = Number(cdp.slice(issuerUrl.length + 1));
    expect(cdp).toBe(`${issuerUrl}/${last}`);
    let total = 0;
    const sizes: number[] = [];
    for (let p = 0; p <= last; p++) {
      const crl = await crlAt(`${issuerUrl}/${p}`, `p${p}`);
      expect(crl.text).toContain(`URI:${issuerUrl}/${p}`);
      expect(crl.entries).toBeLessThanOrEqual(CRL_PARTITION_SIZE);
      expect(crl.bytes).toBeLessThan(1_000_000);
      total += crl.entries;
      sizes.push(crl.bytes);
    }
    // The 70,000, the small test's revocation (partition 0) and `bad`.
    expect(total).toBe(BULK + 2);
    writeFileSync(file("good.pem"), good.certificate_pem);
    writeFileSync(file("bad.pem"), bad.certificate_pem);
    expect(verifyWith(`p${last}`, "good.pem").out).toMatch(/good\.pem: OK/);
    expect(verifyWith(`p${last}`, "bad.pem").out).toMatch(/certificate revoked/);
    // Another partition's CRL does not cover this certificate: openssl refuses it as out of scope (fails closed).
    const other = verifyWith("p0", "good.pem");
    expect(other.code).not.toBe(0);
    expect(other.out, other.out).toMatch(/unable to get certificate CRL|different CRL scope/i);

    // The historic URL: too many entries for one CRL, so it serves the pre-partition certificates,
    // scoped by an IDP naming that URL (the CDP those certificates carry).
    const legacy = await crlAt(issuerUrl, "legacy");
    expect(legacy.text).toContain(`URI:${issuerUrl}`);
    expect(legacy.entries).toBe(LEGACY);
    expect((await crlAt(`${edge.url}/v1/crl/${tenant.id}`, "tenant-level")).entries).toBe(LEGACY);
    console.log(
      `[crl-partitions] ${BULK + 2} revocations in ${last + 1} partitions of ≤ ${CRL_PARTITION_SIZE}: ${sizes.map((b) => `${(b / 1e6).toFixed(2)} MB`).join(", ")}; signed and published in ${(publishMs / 1000).toFixed(1)} s`,
    );
  }, 600_000);
});
