/**
 * Upgrading a running installation WITH DATA to this build. The fixture (test/fixtures/upgrade-9f2709c,
 * made once by its generate.sh from release 9f2709c, migrations 0000..0015) is an installation used
 * through the old HTTP API, dumped with its secrets and the answers the old origin gave. Here it is
 * restored into a fresh PGlite data directory and a fresh PostgreSQL database, migrated by this
 * build's `kakunin-origin migrate`, and served by this build: nothing acknowledged before the
 * upgrade may be lost or changed, and everything must still work across the boundary. An e2e test
 * (not origin/): it holds the origin's answers to the CLI's offline verifier, run as a user runs it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CertStatusRecord, CrlRecord, PublishBatch } from "@kakunin/shared";
import { ok } from "@kakunin/shared";
import { kakunin } from "../cli/test/support/run.ts";
import { x509 } from "../origin/src/ca/x509.ts";
import { loadConfig } from "../origin/src/config.ts";
import { shippedMigrations } from "../origin/src/db/index.ts";
import { migrateCommand } from "../origin/src/migrate-command.ts";
import type { EdgeClient } from "../origin/src/publish/edge-client.ts";
import { Publisher } from "../origin/src/publish/publisher.ts";
import { keyManagerSigners } from "../origin/src/publish/signers.ts";
import { EdgeModel } from "../origin/test/edge-model.ts";
import { agentBody, allPages, dbKinds, freshPostgresDatabase, startTestOrigin, type DbKind, type TestOrigin } from "../origin/test/harness.ts";
import { restoreSqlDump } from "../origin/test/restore-sql-dump.ts";
import { verifyConsistencyRfc } from "../origin/test/rfc9162.ts";
import { schemaOf } from "../origin/test/schema-of.ts";

const FIXTURE = join(import.meta.dirname, "fixtures", "upgrade-9f2709c");
const LAST_OLD_MIGRATION = "0015_review_scoring_webhooks";

interface Cert {
  id: string;
  serial_number: string;
  status: string;
}
interface Expected {
  tenant: { id: string; name: string };
  keys: { issuer: string; auditor: string; credential: string };
  webhook: { id: string; url: string };
  agents: Record<string, { id: string; first_certificate: string; serial: string }>;
  certificates: Record<string, Cert[]>;
  events: string[];
  ca: { root: { certificate_pem: string; serial_number: string }; issuing: { certificate_pem: string; serial_number: string } };
  tree_head: { tree_size: number; root_hash: string };
  audit_entries: Array<{ index: number; leaf_hash: string; canonical: string }>;
}
const expected = JSON.parse(readFileSync(join(FIXTURE, "expected.json"), "utf8")) as Expected;
const secrets = JSON.parse(readFileSync(join(FIXTURE, "env.json"), "utf8")) as Record<
  "KAKUNIN_ADMIN_KEY" | "KAKUNIN_MASTER_KEY" | "KAKUNIN_EDGE_SECRET",
  string
>;
const dump = gunzipSync(readFileSync(join(FIXTURE, "dump.sql.gz"))).toString("utf8");

/**
 * What migrating the fixture applies: the journal entries newer than the release's last one (the
 * rule drizzle's migrator follows). 0016 is older than 0015 in the journal and is skipped: 0021
 * repairs what that left out, and the schema comparison below holds the result to a fresh install's.
 */
const newer = () => {
  const last = shippedMigrations().find((m) => m.tag === LAST_OLD_MIGRATION)!.when;
  return shippedMigrations()
    .filter((m) => m.when > last)
    .map((m) => m.tag);
};

describe.each(dbKinds())("upgrading an installation of release 9f2709c, with its data, to this build on %s", (kind: DbKind) => {
  const cleanups: Array<() => unknown> = [];
  let dataDir = "";
  let url: string | undefined;
  let o: TestOrigin;
  const migrateLogs: string[] = [];
  const env = () => ({ KAKUNIN_DATA_DIR: dataDir, KAKUNIN_MASTER_KEY: secrets.KAKUNIN_MASTER_KEY, ...(url ? { DATABASE_URL: url } : {}) });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "kakunin-upgrade-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    execFileSync("tar", ["-xzf", join(FIXTURE, "data-dir.tar.gz"), "-C", dataDir]);
    if (kind === "postgres") {
      const db = await freshPostgresDatabase();
      cleanups.push(() => db.drop());
      url = db.url;
      await restoreSqlDump({ url }, dump);
    } else {
      await restoreSqlDump({ pgliteDir: join(dataDir, "pglite") }, dump);
    }
    // The deploy step docs/operations.md gives an upgrade, then the origin that never runs DDL.
    expect(await migrateCommand(loadConfig(env()), (l) => migrateLogs.push(l))).toBe(0);
    expect(await migrateCommand(loadConfig(env()), (l) => migrateLogs.push(l))).toBe(0);
    o = await startTestOrigin(kind, {
      dataDir,
      databaseUrl: url,
      adminKey: secrets.KAKUNIN_ADMIN_KEY,
      env: { KAKUNIN_MASTER_KEY: secrets.KAKUNIN_MASTER_KEY, KAKUNIN_EDGE_SECRET: secrets.KAKUNIN_EDGE_SECRET, KAKUNIN_MIGRATE: "off" },
    });
    cleanups.push(() => o.close());
  }, 180_000);
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("migrate applies exactly the migrations newer than the release, then is a no-op; the schema equals a fresh install's", async () => {
    expect(migrateLogs[0]).toContain(`applied ${newer().length} migration(s) to the ${kind} database: ${newer().join(", ")}`);
    expect(migrateLogs[1]).toContain("current; nothing to do");
    // A skipped or diverging migration leaves a table, column, index or constraint out: compare
    // the whole upgraded schema with the one this build's migrations give an empty database.
    const fresh = await startTestOrigin(kind);
    try {
      expect(await schemaOf(o.services.db)).toEqual(await schemaOf(fresh.services.db));
    } finally {
      await fresh.close();
    }
  });

  it("every key of the old release still authenticates with its role; the tenant and its CA are the same", async () => {
    const tenant = await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant");
    expect(tenant.status).toBe(200);
    expect(tenant.body.data).toMatchObject(expected.tenant);
    expect((await o.json("GET", "/v1/tenant", { key: expected.keys.auditor })).status).toBe(200);
    expect((await o.json("POST", "/v1/api-keys", { key: expected.keys.auditor, body: { name: "x", role: "admin" } })).status).toBe(403);
    const ca = await o.json<{ data: Expected["ca"] }>("GET", "/v1/ca");
    expect(ca.body.data.root.certificate_pem).toBe(expected.ca.root.certificate_pem);
    expect(ca.body.data.issuing.serial_number).toBe(expected.ca.issuing.serial_number);
    const webhooks = await o.json<{ data: Array<{ id: string; url: string }> }>("GET", "/v1/tenant/webhooks");
    expect(webhooks.body.data.map((w) => ({ id: w.id, url: w.url }))).toEqual([expected.webhook]);
    // Its receiver was down: the deliveries the old release queued are still pending, none lost.
    const pending = await o.json<{ data: Array<{ event_type: string; status: string }> }>(
      "GET",
      `/v1/tenant/webhooks/${expected.webhook.id}/deliveries?status=pending`,
    );
    expect(pending.body.data.map((d) => d.event_type).sort()).toEqual([
      "io.kakunin.certificate.renewed",
      "io.kakunin.certificate.revoked",
      "io.kakunin.certificate.revoked",
    ]);
    // The console signs in with any API key: a session row in a table the old release never had.
    const form = await o.request("GET", "/console", { key: null });
    const pre = /kakunin_signin=([\w-]+)/.exec(form.headers.get("set-cookie") ?? "")![1]!;
    const signIn = await o.request("POST", "/console/sign-in", {
      key: null,
      rawBody: new URLSearchParams({ csrf: pre, api_key: secrets.KAKUNIN_ADMIN_KEY }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `kakunin_signin=${pre}` },
    });
    expect(signIn.status).toBe(303);
  });

  it("old certificates are listed with the same serials and statuses; the events stored before are all there", async () => {
    for (const [name, agent] of Object.entries(expected.agents)) {
      const certs = await o.json<{ data: Cert[] }>("GET", `/v1/agents/${agent.id}/certificates`);
      expect(
        certs.body.data.map((c) => ({ id: c.id, serial_number: c.serial_number, status: c.status })),
        name,
      ).toEqual(expected.certificates[name]);
    }
    const revoked = await o.json<{ data: Cert & { revocation_reason: string } }>(
      "GET",
      `/v1/certificates/${expected.agents["bot-revoked"]!.first_certificate}`,
    );
    expect(revoked.body.data).toMatchObject({ status: "revoked", revocation_reason: "key compromise" });
    const events = await o.json<{ data: Array<{ event_id: string }> }>("GET", `/v1/agents/${expected.agents["bot-active"]!.id}/events`);
    expect(events.body.data.map((e) => e.event_id).sort()).toEqual(expected.events);
  });

  it("the audit log keeps every old entry byte for byte, and the tree after the upgrade is consistent with the old signed head", async () => {
    const { rows } = await allPages<Expected["audit_entries"][number]>(o, "/v1/audit/entries", 100);
    expect(rows.slice(0, expected.audit_entries.length)).toEqual(expected.audit_entries);
    // Append after the upgrade, then prove the new tree extends the one the old release signed.
    expect((await o.json("POST", "/v1/agents", { body: agentBody({ name: "after-upgrade" }) })).status).toBe(201);
    const head = (await o.json<{ data: { tree_size: number; root_hash: string } }>("GET", "/v1/audit/tree-head")).body.data;
    expect(head.tree_size).toBeGreaterThan(expected.tree_head.tree_size);
    const proof = (await o.json<{ data: { proof: string[] } }>("GET", `/v1/audit/proofs/consistency?from=${expected.tree_head.tree_size}&to=${head.tree_size}`))
      .body.data;
    const hex = (h: string) => Buffer.from(h, "hex");
    expect(
      verifyConsistencyRfc(expected.tree_head.tree_size, head.tree_size, hex(expected.tree_head.root_hash), hex(head.root_hash), proof.proof.map(hex)),
    ).toBe(true);
  });

  it("an evidence bundle of an old agent, exported after the upgrade, verifies offline against the old root and extends the old signed tree head", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kakunin-upgrade-evidence-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const root = join(dir, "root.pem");
    writeFileSync(root, expected.ca.root.certificate_pem);
    const since = join(dir, "tree-head.json");
    writeFileSync(since, JSON.stringify({ data: expected.tree_head }));
    for (const name of ["bot-active", "bot-revoked"]) {
      const res = await o.request("GET", `/v1/agents/${expected.agents[name]!.id}/evidence?since_size=${expected.tree_head.tree_size}`);
      expect(res.status).toBe(200);
      const file = join(dir, `${name}.json`);
      writeFileSync(file, await res.text());
      const run = await kakunin({ KAKUNIN_CONFIG: join(dir, "no-config.json") }, "audit", "verify", file, "--root", root, "--since-tree-head", since, "--json");
      expect(run.code, `${name}: ${run.stdout}${run.stderr}`).toBe(0);
      const report = JSON.parse(run.stdout) as { ok: boolean; checks: Array<{ id: string; status: string }> };
      expect(report.ok).toBe(true);
      expect(report.checks.find((c) => c.id === "consistency")?.status).toBe("pass");
    }
  });

  it("certify and revoke work for a new agent under the old tenant, signed by the old issuing CA, with the old issuer key", async () => {
    const agent = await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key: expected.keys.issuer, body: agentBody({ name: "new-after-upgrade" }) });
    expect(agent.status).toBe(201);
    const cert = await o.json<{ data: { id: string; certificate_pem: string } }>("POST", `/v1/agents/${agent.body.data.id}/certify`, {
      key: expected.keys.issuer,
    });
    expect(cert.status).toBe(201);
    const leaf = new x509.X509Certificate(cert.body.data.certificate_pem);
    const issuing = new x509.X509Certificate(expected.ca.issuing.certificate_pem);
    expect(leaf.issuer).toBe(issuing.subject);
    expect(await leaf.verify({ publicKey: issuing.publicKey, signatureOnly: true })).toBe(true);
    const revoke = await o.json<{ data: { status: string } }>("POST", `/v1/certificates/${cert.body.data.id}/revoke`, { body: { reason: "after upgrade" } });
    expect(revoke.status).toBe(200);
    expect(revoke.body.data.status).toBe("revoked");
    // The old renewed agent renews again: the chain of successors crosses the upgrade.
    expect((await o.json("POST", `/v1/agents/${expected.agents["bot-renewed"]!.id}/certificates/renew`, { body: { overlap_seconds: 0 } })).status).toBe(201);
  });

  it("what the old release queued for the edge is published: the revoked certificate's status, OCSP and CRL say revoked", async () => {
    const model = new EdgeModel();
    const client: EdgeClient = {
      async publish(batch: PublishBatch) {
        return ok(model.apply(batch));
      },
    };
    const p = new Publisher(o.services, client, keyManagerSigners(o.services), { log: () => {} });
    for (let i = 0; i < 50; i++) {
      const r = await p.drainOnce();
      if (!("error" in r) && !r.pending) break;
    }
    const serial = expected.agents["bot-revoked"]!.serial;
    const status = model.get(`cert:${serial}`) as CertStatusRecord | undefined;
    expect(status).toMatchObject({ status: "revoked", revocation_reason: "key compromise" });
    const dir = mkdtempSync(join(tmpdir(), "kakunin-upgrade-ocsp-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "ocsp.der"), Buffer.from(status!.ocsp_b64!, "base64"));
    const ocsp = execFileSync("openssl", ["ocsp", "-respin", join(dir, "ocsp.der"), "-resp_text", "-noverify"], { encoding: "utf8" });
    expect(ocsp).toMatch(/Cert Status: revoked/);
    // Every CRL of the tenant's issuer that lists old certificates lists the revoked one.
    const crls = model.all().filter((r): r is CrlRecord => r.kind === "crl" && r.tenant_id === expected.tenant.id);
    const listed = crls.flatMap((c) => new x509.X509Crl(Buffer.from(c.crl_b64, "base64")).entries.map((e) => e.serialNumber.toLowerCase()));
    expect(listed).toContain(serial.replace(/^0+/, ""));
  });
});
