import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { ManualClock } from "../src/clock.ts";
import { sqlState, UNIQUE_VIOLATION } from "../src/db/index.ts";
import { certificates } from "../src/db/schema.ts";
import { supersedeDue } from "../src/lifecycle/supersede.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { certRecord } from "../src/publish/records.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Cert { id: string; serial_number: string; status: string; expires_at: string; superseded_at: string | null; superseded_by: string | null }
interface Renewed extends Cert { predecessor: { id: string; serial_number: string; status: string; superseded_at: string }; overlap_seconds: number }
interface Problem { type: string; status: number; detail: string }
const H = 3_600_000;

describe.each(dbKinds())("renewal with overlap on %s", (kind) => {
  let o: TestOrigin;
  const clock = new ManualClock(new Date("2026-06-01T00:00:00Z"));
  beforeAll(async () => { o = await startTestOrigin(kind, { clock, env: { KAKUNIN_LOCAL_KEY_POOL: "0" } }); });
  afterAll(async () => { await o.close(); });

  const newCertified = async () => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = await o.json<{ data: Cert }>("POST", `/v1/agents/${id}/certify`);
    expect(c.status).toBe(201);
    return { id, cert: c.body.data };
  };
  const renew = (id: string, body?: unknown) => o.json<{ data: Renewed } & Problem>("POST", `/v1/agents/${id}/certificates/renew`, body === undefined ? {} : { body });
  const getCert = async (id: string) => (await o.json<{ data: Cert }>("GET", `/v1/certificates/${id}`)).body.data;

  it("issues a successor; the predecessor stays valid for the default 24 h overlap, then is superseded (not revoked)", async () => {
    const { id, cert } = await newCertified();
    const r = await renew(id);
    expect(r.status).toBe(201);
    const d = r.body.data;
    expect(d.status).toBe("active");
    expect(d.serial_number).not.toBe(cert.serial_number);
    expect(d.predecessor).toEqual({ id: cert.id, serial_number: cert.serial_number, status: "renewed", superseded_at: new Date(clock.now().getTime() + 24 * H).toISOString().replace(".000", "") });
    expect(d.overlap_seconds).toBe(86_400);
    expect(await getCert(cert.id)).toMatchObject({ status: "renewed", superseded_by: d.serial_number });
    // Ingest tokens are minted under the successor at once.
    const tok = await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${id}/ingest-tokens`);
    expect(tok.body.data.serial_number).toBe(d.serial_number);

    clock.advance(24 * H);
    expect(await getCert(cert.id)).toMatchObject({ status: "superseded", revoked_at: null });
    // The agent was never suspended, and the superseded certificate cannot be "revoked" again.
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/agents/${id}`)).body.data.status).toBe("active");
    const rv = await o.json<Problem>("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "late" } });
    expect(rv.status).toBe(409);
    expect(rv.body.type).toBe("urn:kakunin:problem:already-superseded");
  });

  it("overlap from the request, else from the tenant policy; never past the old certificate's notAfter", async () => {
    const a = await newCertified();
    expect((await renew(a.id, { overlap_seconds: 600 })).body.data.overlap_seconds).toBe(600);
    const p = await o.json<{ data: { renewal_overlap_seconds: number } }>("PATCH", "/v1/tenant/policy", { body: { renewal_overlap_seconds: 7200 } });
    expect(p.body.data.renewal_overlap_seconds).toBe(7200);
    const b = await newCertified();
    const r = await renew(b.id);
    expect(r.body.data.overlap_seconds).toBe(7200);
    expect(Date.parse(r.body.data.predecessor.superseded_at) - clock.now().getTime()).toBe(7200_000);
    const c = await newCertified();
    const long = await renew(c.id, { overlap_seconds: 30 * 86_400 });
    expect(Date.parse(long.body.data.predecessor.superseded_at)).toBeLessThanOrEqual(Date.parse(c.cert.expires_at));
    await o.json("PATCH", "/v1/tenant/policy", { body: { renewal_overlap_seconds: 86_400 } });
  });

  it("renewing again during an overlap ends the earlier overlap now: one predecessor at a time", async () => {
    const { id, cert } = await newCertified();
    const first = (await renew(id)).body.data;
    const second = await renew(id);
    expect(second.status).toBe(201);
    expect(second.body.data.predecessor.serial_number).toBe(first.serial_number);
    const old = await getCert(cert.id);
    expect(old.status).toBe("superseded");
    expect(Date.parse(old.superseded_at!)).toBe(clock.now().getTime());
  });

  it("the database refuses a second predecessor and a second primary, whatever the code does", async () => {
    const { id } = await newCertified();
    await renew(id);
    const rows = await o.services.db.select().from(certificates).where(sql`${certificates.agentId} = ${id}`);
    const clone = (status: "active" | "renewed") => {
      const src = rows.find((r) => r.status === status)!;
      return o.services.db.insert(certificates).values({ ...src, id: crypto.randomUUID(), serialNumber: crypto.randomUUID().replace(/-/g, "") });
    };
    for (const status of ["active", "renewed"] as const) {
      const e = await clone(status).then(() => undefined, (x: unknown) => x);
      expect(sqlState(e), status).toBe(UNIQUE_VIOLATION);
    }
    // And a predecessor must say until when and by whom.
    const e = await o.services.db.execute(sql`update certificates set superseded_by = null where agent_id = ${id} and status = 'renewed'`).then(() => undefined, (x: unknown) => x);
    expect(e).toBeDefined();
  });

  it("refuses what cannot be renewed: 404 other tenant or missing, 409 no active certificate, 422 retired, 400/422 bad bodies", async () => {
    const t = await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `other-${kind}` } });
    const { id } = await newCertified();
    const other = await o.json<Problem>("POST", `/v1/agents/${id}/certificates/renew`, { key: t.body.data.admin_api_key });
    expect(other.status).toBe(404);
    expect((await renew(crypto.randomUUID())).status).toBe(404);
    const bare = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const none = await renew(bare);
    expect(none.status).toBe(409);
    expect(none.body.type).toBe("urn:kakunin:problem:no-active-certificate");
    expect((await renew(id, { overlap_seconds: -1 })).status).toBe(422);
    expect((await renew(id, { overlap: 5 })).status).toBe(422);
    expect((await o.request("POST", `/v1/agents/${id}/certificates/renew`, { rawBody: "{", headers: { "content-type": "application/json" } })).status).toBe(400);
    await o.json("POST", `/v1/agents/${id}/retire`);
    expect((await renew(id)).status).toBe(422);
  });

  it("retiring the agent, or a new model hash, ends every certificate that speaks for it: the renewed predecessor inside its overlap is revoked too", async () => {
    // Retired: nothing may speak for the agent any more, and a predecessor would for up to its overlap (30 days here).
    const a = await newCertified();
    const ra = await renew(a.id, { overlap_seconds: 30 * 86_400 });
    expect(ra.status).toBe(201);
    expect((await o.json("POST", `/v1/agents/${a.id}/retire`)).status).toBe(200);
    expect(await getCert(ra.body.data.id)).toMatchObject({ status: "revoked" });
    expect(await getCert(a.cert.id)).toMatchObject({ status: "revoked" });
    // The record every gateway reads (edge, CRL, OCSP) says so at once, not when the overlap ends.
    const rec = await certRecord(o.services, keyManagerSigners(o.services), a.cert.serial_number, 1);
    expect(rec).toMatchObject({ status: "revoked", revocation_reason: "agent retired" });
    // A new model: the predecessor binds the old one as much as the active certificate does.
    const b = await newCertified();
    const rb = await renew(b.id);
    expect(rb.status).toBe(201);
    const p = await o.json("PATCH", `/v1/agents/${b.id}`, { body: { model: { hash: `sha256:${"cd".repeat(32)}` } } });
    expect(p.status).toBe(200);
    expect(await getCert(rb.body.data.id)).toMatchObject({ status: "revoked" });
    expect(await getCert(b.cert.id)).toMatchObject({ status: "revoked" });
  });

  it("revoking the active certificate suspends the agent and ends its renewed predecessor too: no certificate of a suspended agent verifies anywhere", async () => {
    const a = await newCertified();
    const r = await renew(a.id, { overlap_seconds: 30 * 86_400 });
    expect(r.status).toBe(201);
    const rv = await o.json<{ data: { id: string; status: string; revocation_reason: string } }>("POST", `/v1/certificates/${r.body.data.id}/revoke`, { body: { reason: "agent misbehaved", reason_code: "keyCompromise" } });
    expect(rv.status).toBe(200);
    // The answer is about the certificate named, with the caller's reason.
    expect(rv.body.data).toMatchObject({ id: r.body.data.id, status: "revoked", revocation_reason: "agent misbehaved" });
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/agents/${a.id}`)).body.data.status).toBe("suspended");
    // The predecessor would otherwise answer "good" to OCSP and stay off the CRL for up to 30 days.
    expect(await getCert(a.cert.id)).toMatchObject({ status: "revoked" });
    const rec = await certRecord(o.services, keyManagerSigners(o.services), a.cert.serial_number, 1);
    expect(rec).toMatchObject({ status: "revoked", revocation_reason: expect.stringContaining("suspended") });
    // Its key was not the one reported: the predecessor is withdrawn with the agent, not called compromised.
    const [row] = await o.services.db.select().from(certificates).where(sql`${certificates.id} = ${a.cert.id}`);
    expect(row!.revocationCode).toBe("privilegeWithdrawn");
  });

  it("after the overlap the CRL lists the predecessor with reason superseded(4), the edge record says superseded", async () => {
    const { id, cert } = await newCertified();
    await renew(id, { overlap_seconds: 60 });
    const before = await certRecord(o.services, keyManagerSigners(o.services), cert.serial_number, 1);
    expect(before).toMatchObject({ status: "active", superseded_by: expect.any(String) });
    clock.advance(61_000);
    expect(await supersedeDue(o.services.db, clock.now())).toBeGreaterThanOrEqual(1);
    const rec = await certRecord(o.services, keyManagerSigners(o.services), cert.serial_number, 2);
    expect(rec).toMatchObject({ status: "superseded", revoked_at: null });
    const tenant = (await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant")).body.data;
    const crls = await keyManagerSigners(o.services).crl({ id: tenant.id, name: tenant.name });
    const crl = crls?.find((c) => c.active); // the issuing CA that signed both certificates
    const text = execFileSync("openssl", ["crl", "-inform", "DER", "-noout", "-text"], { input: Buffer.from(crl!.der) }).toString();
    const entry = text.split("Serial Number: ").find((e) => e.toLowerCase().startsWith(cert.serial_number.toUpperCase().toLowerCase()));
    expect(entry, text).toBeDefined();
    expect(entry).toMatch(/X509v3 CRL Reason Code:\s*\n\s*Superseded/);
  });

  it("a renewed predecessor's OCSP response is never valid past its superseded_at: a client caching it to nextUpdate does not keep 'good'", async () => {
    const { id, cert } = await newCertified();
    const r = await renew(id, { overlap_seconds: 3600 });
    const supersededAt = new Date(r.body.data.predecessor.superseded_at);
    const [row] = await o.services.db.select().from(certificates).where(sql`${certificates.id} = ${cert.id}`);
    const der = await keyManagerSigners(o.services).ocsp(row!);
    const file = join(mkdtempSync(join(tmpdir(), "kakunin-renewal-")), "resp.der");
    for (const bytes of [der!.sha1, der!.sha256]) {
      writeFileSync(file, bytes);
      const text = execFileSync("openssl", ["ocsp", "-respin", file, "-resp_text", "-noverify"]).toString();
      expect(text).toMatch(/Cert Status: good/);
      const next = [...text.matchAll(/Next Update: (.+)/g)].map((m) => new Date(`${m[1]!.trim()}`));
      expect(next).toHaveLength(1);
      for (const n of next) expect(n.getTime(), text).toBeLessThanOrEqual(supersededAt.getTime());
    }
  });

  it("GET /v1/agents?expiring_within lists agents whose active certificate expires inside the window", async () => {
    const { id, cert } = await newCertified();
    const days = (Date.parse(cert.expires_at) - clock.now().getTime()) / 86_400_000;
    const inside = await o.json<{ data: { id: string; certificate: { serial_number: string } }[] }>("GET", `/v1/agents?expiring_within=${Math.ceil(days)}d&limit=200`);
    expect(inside.body.data.find((a) => a.id === id)?.certificate.serial_number).toBe(cert.serial_number);
    const outside = await o.json<{ data: { id: string }[] }>("GET", `/v1/agents?expiring_within=${Math.floor(days) - 1}d&limit=200`);
    expect(outside.body.data.find((a) => a.id === id)).toBeUndefined();
    const bad = await o.json<Problem>("GET", "/v1/agents?expiring_within=30x");
    expect(bad.status).toBe(422);
  });
});
