/**
 * Numeric options are checked at startup (sdk/src/options.ts): NaN from an unset environment
 * variable made every comparison false, so a NaN maxSkewMs accepted stale signatures and let them
 * be replayed, and a NaN cacheTtlMs kept an "active" answer after its revocation for good. And
 * invalidate() (a gateway told of a revocation) did not stop a request already in flight from
 * caching its pre-revocation answer.
 */
import { describe, expect, it } from "vitest";
import { createGate, createVerifier, type FetchLike } from "../src/index.ts";

const SERIAL = "4d2f0c9a1b3e5f7081928374a5b6c7d8";
const data = (status: string) => ({
  serial_number: SERIAL,
  status,
  valid: status === "active",
  reasons: status === "active" ? [] : [{ code: "revoked", detail: "certificate revoked" }],
  agent_id: "a",
  agent_urn: "urn:kakunin:agent:a",
  tenant_id: "11111111-1111-4111-8111-111111111111",
  model: { name: "m", version: "1", hash: `sha256:${"ab".repeat(32)}` },
  scopes: ["*"],
  not_before: "2020-01-01T00:00:00Z",
  not_after: "2999-01-01T00:00:00Z",
  revoked_at: status === "active" ? null : "2026-01-01T00:00:00Z",
  revocation_reason: status === "active" ? null : "key compromise",
  risk: { score: 0.1, band: "low" },
  checked_at: "2026-01-01T00:00:00Z",
});

describe("numeric options", () => {
  it("a NaN, infinite or negative number is refused when the verifier or gate is made, naming the option", () => {
    const edgeUrl = "http://edge.test";
    for (const [name, value] of [
      ["cacheTtlMs", Number.NaN],
      ["finalCacheTtlMs", Number.POSITIVE_INFINITY],
      ["unknownCacheTtlMs", -1],
      ["timeoutMs", Number.NaN],
      ["maxEntries", 0.5],
    ] as const) {
      expect(() => createVerifier({ edgeUrl, [name]: value }), name).toThrow(new RegExp(name));
    }
    for (const [name, value] of [
      ["maxSkewMs", Number.NaN],
      ["maxBodyBytes", Number.NaN],
      ["maxSkewMs", 0],
    ] as const) {
      expect(() => createGate({ verifier: { edgeUrl }, authority: "api.example.com", [name]: value }), name).toThrow(new RegExp(name));
    }
    expect(() => createVerifier({ edgeUrl, cacheTtlMs: 0, timeoutMs: 500 })).not.toThrow();
    expect(() => createGate({ verifier: { edgeUrl }, authority: "api.example.com", maxSkewMs: 30_000, maxBodyBytes: 65_536 })).not.toThrow();
  });
});

describe("invalidate() and a request in flight", () => {
  it("an answer to a request sent before invalidate() is not cached, and later calls ask the edge again", async () => {
    let status = "active";
    let release: () => void = () => {};
    let calls = 0;
    const fetch: FetchLike = async () => {
      calls++;
      const answer = data(status);
      if (calls === 1) await new Promise<void>((r) => (release = r));
      return Response.json({ data: answer });
    };
    const v = createVerifier({ edgeUrl: "http://edge.test", fetch, includeCertificate: false, cacheTtlMs: 60_000 });
    const first = v.verify(SERIAL);
    await new Promise((r) => setTimeout(r, 10));
    // The gateway hears of the revocation (a webhook) while the first lookup is still out.
    status = "revoked";
    v.invalidate(SERIAL);
    const second = v.verify(SERIAL);
    release();
    expect((await first).valid).toBe(true);
    expect((await second).valid).toBe(false);
    expect((await v.verify(SERIAL)).valid).toBe(false);
    expect(calls).toBe(2);
  });
});
