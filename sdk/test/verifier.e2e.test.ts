import { createPublicKey } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateParts, createVerifier, type VerifyResult } from "../src/index.ts";
import { closedPort, countingFetch, MODEL_HASH, OTHER_HASH, TestSystem, type Agent } from "./support.ts";

const codes = (r: VerifyResult) => r.reasons.map((x) => x.code);

/** An HTTP server standing in for a broken edge: it answers `handler`, nothing else. */
async function brokenEdge(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("createVerifier against the real edge", () => {
  const t = new TestSystem();
  let agent: Agent;
  const servers: Server[] = [];

  beforeAll(async () => {
    await t.start();
    agent = await t.certifiedAgent();
  }, 180_000);
  afterAll(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await t.stop();
  });

  it("an active agent is valid, with the edge's data and its certificate", async () => {
    const v = createVerifier({ edgeUrl: t.edgeUrl });
    const r = await v.verify(agent.serial);
    expect(r).toMatchObject({ kind: "checked", valid: true, degraded: false, serial: agent.serial, reasons: [], cached: false });
    if (r.kind !== "checked") return;
    expect(r.data).toMatchObject({ status: "active", agent_id: agent.id, agent_urn: `urn:kakunin:agent:${agent.id}`, model: { hash: MODEL_HASH }, scopes: ["orders.*", "crm.lookup_customer"] });
    expect(r.data.certificate_pem).toBe(agent.certificatePem);
  });

  it("the DER walker finds the real certificate's serial and the same SubjectPublicKeyInfo node:crypto does", () => {
    const parts = certificateParts(agent.certificatePem);
    expect(parts.ok).toBe(true);
    if (!parts.ok) return;
    expect(parts.serial).toBe(agent.serial);
    const spki = createPublicKey(agent.certificatePem).export({ type: "spki", format: "der" });
    expect(Buffer.from(parts.spki).equals(spki)).toBe(true);
    expect(certificateParts("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----")).toMatchObject({ ok: false });
    expect(certificateParts("not a pem")).toMatchObject({ ok: false });
    // Truncated DER: lengths that run past the end are refused, not read out of bounds.
    const b64 = agent.certificatePem.replace(/-----[^-]+-----|\s/g, "");
    expect(certificateParts(`-----BEGIN CERTIFICATE-----\n${b64.slice(0, 400)}\n-----END CERTIFICATE-----`)).toMatchObject({ ok: false });
  });

  it("model hash and scopes are checked locally with the edge's rules, agreeing with the edge's own answer", async () => {
    const v = createVerifier({ edgeUrl: t.edgeUrl });
    const cases: { modelHash?: string; scope?: string[] }[] = [
      { modelHash: MODEL_HASH, scope: ["orders.place", "orders.cancel.bulk", "crm.lookup_customer"] },
      { modelHash: OTHER_HASH },
      { scope: ["payments.send"] },
      { scope: ["orders"] },
      { scope: ["crm.lookup_customer.extra"] },
      { modelHash: OTHER_HASH, scope: ["orders.place", "payments.send", "crm.delete"] },
    ];
    for (const c of cases) {
      const local = await v.verify(agent.serial, c);
      const q = new URLSearchParams();
      if (c.modelHash) q.set("model_hash", c.modelHash);
      for (const s of c.scope ?? []) q.append("scope", s);
      const edge = (await (await fetch(`${t.edgeUrl}/v1/verify/${agent.serial}?${q}`)).json()) as { data: { valid: boolean; reasons: { code: string; detail: string }[] } };
      expect(local.valid, JSON.stringify(c)).toBe(edge.data.valid);
      expect(local.reasons, JSON.stringify(c)).toEqual(edge.data.reasons);
    }
    expect(codes(await v.verify(agent.serial, { scope: "orders.place" }))).toEqual([]);
    expect(codes(await v.verify(agent.serial, { modelHash: OTHER_HASH, scope: "payments.send" }))).toEqual(["model_hash_mismatch", "scope_not_granted"]);
  });

  it("a `*` scope covers every action", async () => {
    const admin = await t.certifiedAgent(["*"]);
    const r = await createVerifier({ edgeUrl: t.edgeUrl }).verify(admin.serial, { scope: ["payments.send", "anything.at.all"] });
    expect(r.valid).toBe(true);
  });

  it("100 concurrent checks of one serial make one request; within the TTL none; after it one", async () => {
    const counter = countingFetch();
    let offset = 0;
    const v = createVerifier({ edgeUrl: t.edgeUrl, fetch: counter.fetch, cacheTtlMs: 2000, now: () => Date.now() + offset });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => v.verify(agent.serial, { scope: i % 2 ? "orders.place" : "payments.send" })));
    // The verifier asks for the PEM by default (proof of possession needs it; the edge leaves it out otherwise).
    expect(counter.urls).toEqual([`${t.edgeUrl}/v1/verify/${agent.serial}?include=certificate_pem`]);
    expect(results.filter((r) => r.valid)).toHaveLength(50);
    // Upper case and colons are the same serial: the same cache entry.
    const colons = agent.serial.toUpperCase().match(/../g)!.join(":");
    const hit = await v.verify(colons, { scope: "crm.lookup_customer" });
    expect(hit).toMatchObject({ kind: "checked", valid: true, cached: true, serial: agent.serial });
    expect(counter.urls).toHaveLength(1);
    offset = 2001;
    expect(await v.verify(agent.serial)).toMatchObject({ valid: true, cached: false });
    expect(counter.urls).toHaveLength(2);
    await Promise.all(Array.from({ length: 10 }, () => v.verify(agent.serial)));
    expect(counter.urls).toHaveLength(2);
  });

  it("a malformed serial is refused without a request", async () => {
    const counter = countingFetch();
    const v = createVerifier({ edgeUrl: t.edgeUrl, fetch: counter.fetch });
    for (const bad of ["", "xyz", "0".repeat(41), "12 34", "../healthz"]) {
      expect(await v.verify(bad)).toMatchObject({ kind: "invalid_serial", valid: false, reasons: [{ code: "invalid_serial" }] });
    }
    expect(counter.urls).toEqual([]);
  });

  it("an unknown serial is not valid, and remembered only briefly", async () => {
    const counter = countingFetch();
    let offset = 0;
    const v = createVerifier({ edgeUrl: t.edgeUrl, fetch: counter.fetch, unknownCacheTtlMs: 1000, now: () => Date.now() + offset });
    const unknown = "4" + "0".repeat(31);
    expect(await v.verify(unknown)).toMatchObject({ kind: "unknown_serial", valid: false, cached: false, reasons: [{ code: "unknown_serial" }] });
    expect(await v.verify(unknown)).toMatchObject({ kind: "unknown_serial", cached: true });
    expect(counter.urls).toHaveLength(1);
    offset = 1001;
    expect(await v.verify(unknown)).toMatchObject({ kind: "unknown_serial", cached: false });
    expect(counter.urls).toHaveLength(2);
  });

  it("a revocation at the origin shows once the cached active answer expires; revoked is then cached longer", async () => {
    const target = await t.certifiedAgent();
    const counter = countingFetch();
    let offset = 0;
    const v = createVerifier({ edgeUrl: t.edgeUrl, fetch: counter.fetch, cacheTtlMs: 2000, now: () => Date.now() + offset });
    expect((await v.verify(target.serial)).valid).toBe(true);
    await t.revoke(target, "key compromise suspected");
    offset = 1000;
    expect(await v.verify(target.serial)).toMatchObject({ valid: true, cached: true });
    offset = 2001;
    const revoked = await v.verify(target.serial, { scope: "orders.place" });
    expect(revoked).toMatchObject({ kind: "checked", valid: false, cached: false });
    expect(codes(revoked)).toEqual(["revoked"]);
    if (revoked.kind === "checked") expect(revoked.data).toMatchObject({ status: "revoked", revocation_reason: "key compromise suspected" });
    offset = 2001 + 60_000;
    expect(await v.verify(target.serial)).toMatchObject({ valid: false, cached: true });
    expect(counter.urls).toHaveLength(2);
  });

  it("expiry is evaluated at check time: an answer cached before not_after does not outlive it", async () => {
    let offset = 0;
    const v = createVerifier({ edgeUrl: t.edgeUrl, cacheTtlMs: 60_000, now: () => Date.now() + offset });
    expect((await v.verify(agent.serial)).valid).toBe(true);
    offset = 366 * 86_400_000;
    const later = await v.verify(agent.serial);
    expect(later).toMatchObject({ kind: "checked", valid: false, reasons: [{ code: "expired" }] });
    if (later.kind === "checked") expect(later.data.status).toBe("expired");
  });

  it("edge unreachable (closed port): fails closed by default, never caches the failure", async () => {
    const counter = countingFetch();
    const v = createVerifier({ edgeUrl: `http://127.0.0.1:${await closedPort()}`, fetch: counter.fetch });
    const r = await v.verify(agent.serial);
    expect(r).toMatchObject({ kind: "edge_unavailable", valid: false, degraded: false, reasons: [{ code: "edge_unavailable" }] });
    if (r.kind === "edge_unavailable") expect(r.cause).toMatch(/unreachable/);
    await v.verify(agent.serial);
    expect(counter.urls).toHaveLength(2);
  });

  it("failClosed: false lets it through as degraded", async () => {
    const v = createVerifier({ edgeUrl: `http://127.0.0.1:${await closedPort()}`, failClosed: false });
    expect(await v.verify(agent.serial)).toMatchObject({ kind: "edge_unavailable", valid: true, degraded: true, reasons: [{ code: "edge_unavailable" }] });
    // Degrading never hides a malformed serial.
    expect(await v.verify("zz")).toMatchObject({ kind: "invalid_serial", valid: false });
  });

  it("an edge that does not answer in time, answers 5xx, or answers garbage is unavailable", async () => {
    const hang = await brokenEdge(() => { /* never answers */ });
    const five = await brokenEdge((_req, res) => { res.writeHead(503, { "content-type": "application/problem+json" }).end("{}"); });
    const junk = await brokenEdge((_req, res) => { res.writeHead(200, { "content-type": "application/json" }).end('{"data":{"valid":true}}'); });
    servers.push(hang.server, five.server, junk.server);
    const t0 = performance.now();
    const slow = await createVerifier({ edgeUrl: hang.url, timeoutMs: 300 }).verify(agent.serial);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(slow).toMatchObject({ kind: "edge_unavailable", valid: false, cause: "edge did not answer within 300 ms" });
    expect(await createVerifier({ edgeUrl: five.url }).verify(agent.serial)).toMatchObject({ kind: "edge_unavailable", valid: false, cause: "edge answered HTTP 503" });
    // A 200 that is not the contract (here: valid true, nothing else) must not be believed.
    expect(await createVerifier({ edgeUrl: junk.url }).verify(agent.serial)).toMatchObject({ kind: "edge_unavailable", valid: false });
  });

  it("the cache is bounded: the least recently used serial is dropped first", async () => {
    const counter = countingFetch();
    const v = createVerifier({ edgeUrl: t.edgeUrl, fetch: counter.fetch, maxEntries: 2, unknownCacheTtlMs: 60_000 });
    const [a, b, c] = ["4" + "1".repeat(31), "4" + "2".repeat(31), "4" + "3".repeat(31)];
    for (const s of [a, b, a, c]) await v.verify(s!);
    expect(counter.urls).toHaveLength(3);
    await v.verify(a!);
    expect(counter.urls).toHaveLength(3);
    await v.verify(b!);
    expect(counter.urls).toHaveLength(4);
  });

  it("refuses an edgeUrl that is not http(s)", () => {
    expect(() => createVerifier({ edgeUrl: "edge.example" })).toThrow(/edgeUrl/);
  });
});
