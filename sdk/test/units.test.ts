import { describe, expect, it } from "vitest";
import { TtlCache } from "../src/cache.ts";
import { createVerifier, inScope, memoryReplayStore, normaliseSerial, originSigner, scopeCovers, signRequest, SigningError } from "../src/index.ts";
import { evaluate } from "../src/evaluate.ts";
import { resolveChecks } from "../src/middleware-options.ts";
import { readCapped } from "../src/capped-body.ts";
import type { EdgeVerifyData } from "../src/types.ts";
import { activeAnswer } from "./edge-answer.ts";

describe("memoryReplayStore", () => {
  it("accepts a key once until it expires, then again", async () => {
    let now = 1_000;
    const store = memoryReplayStore({ now: () => now });
    expect(await store.checkAndAdd("a", 2_000)).toBe(true);
    expect(await store.checkAndAdd("a", 2_000)).toBe(false);
    expect(await store.checkAndAdd("b", 2_000)).toBe(true);
    now = 2_001;
    expect(await store.checkAndAdd("a", 3_000)).toBe(true);
  });

  it("stays bounded without forgetting a live key: expired keys make room, otherwise it is full", async () => {
    let now = 0;
    const store = memoryReplayStore({ maxEntries: 3, now: () => now });
    for (const k of ["a", "b", "c"]) expect(await store.checkAndAdd(k, 100)).toBe(true);
    expect(await store.checkAndAdd("d", 100)).toBe("full");
    for (const k of ["a", "b", "c"]) expect(await store.checkAndAdd(k, 100)).toBe(false); // all still remembered
    now = 101;
    for (const k of ["x", "y", "z"]) expect(await store.checkAndAdd(k, 200)).toBe(true);
    expect(await store.checkAndAdd("x", 200)).toBe(false);
  });

  it("finds expired keys behind a live one before saying full", async () => {
    let now = 0;
    const store = memoryReplayStore({ maxEntries: 3, now: () => now });
    // Signatures made at different times: insertion order is not expiry order.
    expect(await store.checkAndAdd("long", 500)).toBe(true);
    expect(await store.checkAndAdd("short1", 100)).toBe(true);
    expect(await store.checkAndAdd("short2", 100)).toBe(true);
    now = 150;
    expect(await store.checkAndAdd("new", 600)).toBe(true);
    expect(await store.checkAndAdd("long", 500)).toBe(false);
  });
});

describe("TtlCache", () => {
  it("expires entries, evicts the least recently used, refuses a zero capacity", () => {
    let now = 0;
    const c = new TtlCache<number>(2, () => now);
    c.set("a", 1, 10);
    c.set("b", 2, 10);
    expect(c.get("a")).toBe(1); // a is now the most recent
    c.set("c", 3, 10);
    expect(c.get("b")).toBeUndefined();
    expect([c.get("a"), c.get("c")]).toEqual([1, 3]);
    now = 10;
    expect(c.get("a")).toBeUndefined();
    c.set("d", 4, 0);
    expect(c.get("d")).toBeUndefined();
    expect(() => new TtlCache<number>(0)).toThrow(RangeError);
  });
});

describe("serials and scopes", () => {
  it("normalises upper case and colons; refuses anything else", () => {
    expect(normaliseSerial("4D:2F:0C")).toBe("4d2f0c");
    expect(normaliseSerial(" 4d2f ")).toBe("4d2f");
    for (const bad of ["", ":", "4g", "0x4d", "1".repeat(41), "4d 2f"]) expect(normaliseSerial(bad), bad).toBeUndefined();
  });

  it("matches scopes exactly as the edge does", () => {
    expect(scopeCovers("orders.*", "orders.place")).toBe(true);
    expect(scopeCovers("orders.*", "orders.cancel.bulk")).toBe(true);
    expect(scopeCovers("orders.*", "orders")).toBe(false);
    expect(scopeCovers("orders.*", "ordersx.place")).toBe(false);
    expect(scopeCovers("orders.place", "orders.place.now")).toBe(false);
    expect(scopeCovers("*", "anything")).toBe(true);
    expect(inScope(["crm.lookup_customer", "orders.*"], "crm.lookup_customer")).toBe(true);
    expect(inScope([], "orders.place")).toBe(false);
  });
});

describe("risk ceilings (maxBand / maxRisk)", () => {
  const edge = (score: number, band: "low" | "medium" | "high"): EdgeVerifyData => ({
    serial_number: "4d2f",
    status: "active",
    valid: true,
    reasons: [],
    agent_id: "a",
    agent_urn: "urn:kakunin:agent:a",
    tenant_id: "t",
    model: { name: "m", version: "1", hash: "sha256:00" },
    scopes: ["orders.*"],
    not_before: "2020-01-01T00:00:00Z",
    not_after: "2999-01-01T00:00:00Z",
    revoked_at: null,
    revocation_reason: null,
    risk: { score, band },
    checked_at: "2026-01-01T00:00:00Z",
    certificate_pem: "",
  });
  const now = Date.parse("2026-06-01T00:00:00Z");

  it("refuses a band above maxBand with risk_too_high, and a score above maxRisk", () => {
    expect(evaluate(edge(0.5, "medium"), { maxBand: "low" }, now).reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
    expect(evaluate(edge(0.5, "medium"), { maxBand: "medium" }, now).valid).toBe(true);
    expect(evaluate(edge(0.9, "high"), { maxBand: "medium" }, now).valid).toBe(false);
    expect(evaluate(edge(0.5, "medium"), { maxRisk: 0.4 }, now).reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
    expect(evaluate(edge(0.5, "medium"), { maxRisk: 0.5 }, now).valid).toBe(true);
  });

  it("is evaluated per caller: an edge reason cached for one ceiling does not leak to another", () => {
    const cached = { ...edge(0.5, "medium"), valid: false, reasons: [{ code: "risk_too_high" as const, detail: "x" }] };
    expect(evaluate(cached, {}, now).valid).toBe(true);
  });

  it("a middleware resolves maxBand/maxRisk per request", async () => {
    expect(
      await resolveChecks(
        { path: "/pay" },
        {
          verifier: {
            verify: async () => {
              throw new Error("unused");
            },
            invalidate: () => {},
            failClosed: true,
          },
          maxBand: (r: { path: string }) => (r.path === "/pay" ? "low" : "medium"),
          maxRisk: 0.7,
        },
      ),
    ).toEqual({ maxBand: "low", maxRisk: 0.7 });
  });
});

describe("certificate_pem is asked for only when needed", () => {
  const data = (serial: string, pem?: string) => activeAnswer(serial, { scopes: ["orders.*"], ...(pem === undefined ? {} : { certificate_pem: pem }) });
  const edge = (withPem: boolean) => {
    const urls: string[] = [];
    const fetch = async (r: Request) => {
      urls.push(r.url);
      const serial = new URL(r.url).pathname.split("/").pop()!;
      return Response.json({ data: data(serial, withPem ? "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n" : undefined) });
    };
    return { urls, fetch };
  };

  it("by default the verifier sends ?include=certificate_pem and requires the field back", async () => {
    const e = edge(false);
    const r = await createVerifier({ edgeUrl: "http://edge.test", fetch: e.fetch }).verify("4d2f");
    expect(e.urls).toEqual(["http://edge.test/v1/verify/4d2f?include=certificate_pem"]);
    expect(r).toMatchObject({ kind: "edge_unavailable" });
  });

  it("includeCertificate: false asks without it and accepts answers without certificate_pem", async () => {
    const e = edge(false);
    const r = await createVerifier({ edgeUrl: "http://edge.test", fetch: e.fetch, includeCertificate: false }).verify("4d2f");
    expect(e.urls).toEqual(["http://edge.test/v1/verify/4d2f"]);
    expect(r).toMatchObject({ kind: "checked", valid: true });
  });
});

describe("a cached answer is only as fresh as the edge's answer was", () => {
  /** An edge that takes `latencyMs` of the test clock to answer, with the given headers. */
  function slowEdge(latencyMs: number, headers: Record<string, string> = {}) {
    const clock = { now: 1_000_000 };
    let requests = 0;
    const fetch = async (r: Request) => {
      requests++;
      clock.now += latencyMs;
      return Response.json({ data: activeAnswer(new URL(r.url).pathname.split("/").pop()!) }, { headers });
    };
    const verifier = createVerifier({ edgeUrl: "http://edge.test", fetch, includeCertificate: false, now: () => clock.now });
    return { verifier, clock, requests: () => requests };
  }

  it("the TTL runs from when the request was sent, not from when a slow answer arrived", async () => {
    const e = slowEdge(1_500);
    await e.verifier.verify("4d2f");
    e.clock.now += 600; // 2.1 s after the edge was asked: past the 2 s the answer may be reused
    expect(await e.verifier.verify("4d2f")).toMatchObject({ kind: "checked", cached: false });
    expect(e.requests()).toBe(2);
  });

  it("an answer that waited in an HTTP cache (Age) is reused only for what is left of the TTL", async () => {
    const aged = slowEdge(0, { age: "1" });
    await aged.verifier.verify("4d2f");
    aged.clock.now += 1_200;
    expect(await aged.verifier.verify("4d2f")).toMatchObject({ kind: "checked", cached: false });
    const fresh = slowEdge(0, { age: "0" });
    await fresh.verifier.verify("4d2f");
    fresh.clock.now += 1_200;
    expect(await fresh.verifier.verify("4d2f")).toMatchObject({ kind: "checked", cached: true });
    // An Age that is not delta-seconds says nothing about how old the answer is: it is not reused.
    const garbled = slowEdge(0, { age: "soon" });
    await garbled.verifier.verify("4d2f");
    expect(await garbled.verifier.verify("4d2f")).toMatchObject({ kind: "checked", cached: false });
  });
});

describe("originSigner", () => {
  // sdk/README: a SigningError carries the status and problem+json body of the origin's refusal. A
  // signature from another certificate is not a refusal: the origin answered 200 with a signature.
  it("reports a signature from another certificate without a status or problem", async () => {
    const signer = originSigner({
      originUrl: "http://origin.test",
      credential: "kka_test",
      agentId: "6f1c0000-0000-4000-8000-000000000000",
      fetch: async () => Response.json({ data: { serial_number: "aaaa", signature_b64: "AAAA", certificate_id: "c", algorithm: "RSASSA_PKCS1_V1_5_SHA_256" } }),
    });
    const e = await signRequest(new Request("https://api.example.com/api/orders", { method: "POST", body: "{}" }), { serial: "bbbb", signer }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(SigningError);
    expect((e as SigningError).message).toContain("the agent's active certificate is aaaa, not bbbb");
    expect((e as SigningError).status).toBeUndefined();
    expect((e as SigningError).problem).toBeUndefined();
  });

  it("reports a 200 without a signature without a status or problem", async () => {
    const signer = originSigner({
      originUrl: "http://origin.test",
      credential: "kka_test",
      agentId: "6f1c0000-0000-4000-8000-000000000000",
      fetch: async () => Response.json({ data: { serial_number: "bbbb" } }),
    });
    const e = await signRequest(new Request("https://api.example.com/api/orders"), { serial: "bbbb", signer }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SigningError);
    expect((e as SigningError).message).toBe("origin answered without a signature");
    expect((e as SigningError).status).toBeUndefined();
    expect((e as SigningError).problem).toBeUndefined();
  });

  it("keeps the status and problem of a refusal", async () => {
    const problem = {
      type: "urn:kakunin:problem:no-active-certificate",
      title: "Agent has no active certificate",
      status: 409,
      detail: "no active certificate",
    };
    const signer = originSigner({
      originUrl: "http://origin.test",
      credential: "kka_test",
      agentId: "6f1c0000-0000-4000-8000-000000000000",
      fetch: async () => Response.json(problem, { status: 409, headers: { "content-type": "application/problem+json" } }),
    });
    const e = await signRequest(new Request("https://api.example.com/api/orders"), { serial: "bbbb", signer }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SigningError);
    expect((e as SigningError).status).toBe(409);
    expect((e as SigningError).problem).toEqual(problem);
  });
});

describe("readCapped", () => {
  /** A body of `chunks` × 64 KiB that counts what was pulled from it and whether it was cancelled. */
  function body(chunks: number) {
    const seen = { pulled: 0, cancelled: false };
    let left = chunks;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (left-- <= 0) return c.close();
        seen.pulled += 65_536;
        c.enqueue(new Uint8Array(65_536));
      },
      cancel() {
        seen.cancelled = true;
      },
    });
    return { stream, seen };
  }

  it("reads a body declared over the cap to its end when the drain bound allows it, and keeps none of it", async () => {
    const { stream, seen } = body(32);
    expect(await readCapped(stream, 1_024, String(32 * 65_536), 4 * 1024 * 1024)).toEqual({ ok: false, tooLarge: true });
    expect(seen).toEqual({ pulled: 32 * 65_536, cancelled: false });
  });

  it("cancels at once a body declared over the drain bound, or with no drain bound", async () => {
    for (const drain of [65_536, 0]) {
      const { stream, seen } = body(32);
      expect(await readCapped(stream, 1_024, String(32 * 65_536), drain)).toEqual({ ok: false, tooLarge: true });
      expect(seen.cancelled).toBe(true);
      expect(seen.pulled).toBeLessThanOrEqual(65_536);
    }
  });

  it("cuts off a body that declares no length at the cap, whatever the drain bound (it may never end)", async () => {
    const { stream, seen } = body(1_000);
    expect(await readCapped(stream, 100_000, null, 16 * 1024 * 1024)).toEqual({ ok: false, tooLarge: true });
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThanOrEqual(4 * 65_536);
  });
});
