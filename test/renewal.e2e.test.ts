import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody } from "../origin/test/harness.ts";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "./support/system.ts";

interface Verdict { status: string; valid: boolean; reasons: { code: string; detail: string }[]; superseded_at?: string | null; superseded_by?: string | null; renew_after?: string; expires_soon?: boolean; not_after: string }

const VALIDITY_S = 30;
const OVERLAP_S = 6;

/**
 * Renewal at the real edge with a short validity (KAKUNIN_CERT_VALIDITY_SECONDS): sampled every
 * ~150 ms from issuance until past the first certificate's notAfter, the agent always has a
 * certificate the edge says is valid — no gap — and an ingest token minted before the renewal
 * keeps working after its certificate was superseded.
 */
describe("renewal keeps an agent verifiable across expiry, at the edge", () => {
  const fx = systemFixture();
  let sys: RunningSystem;
  const api = async <T>(method: string, path: string, body?: unknown) => {
    const r = await fetch(`${sys.origin.url}${path}`, {
      method, headers: { authorization: `Bearer ${fx.adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: (await r.json()) as T };
  };
  const verify = async (serial: string): Promise<Verdict | undefined> => {
    const r = await fetch(`${sys.edge.url}/v1/verify/${serial}`);
    return r.status === 200 ? ((await r.json()) as { data: Verdict }).data : undefined;
  };
  const post = (token: string, id: string, action = "orders.place") => fetch(`${sys.edge.url}/v1/events`, {
    method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ event_id: id, timestamp: new Date().toISOString(), type: "tool_call", action, outcome: "success" }),
  });

  beforeAll(async () => { sys = await startSystem(fx, { KAKUNIN_CERT_VALIDITY_SECONDS: String(VALIDITY_S) }); }, 180_000);
  afterAll(async () => { await sys?.stop(); fx.cleanup(); });

  it("no instant without a valid certificate; the old one ends superseded (not revoked); tokens follow the successor", async () => {
    const agent = (await api<{ data: { id: string } }>("POST", "/v1/agents", agentBody())).body.data.id;
    const a = (await api<{ data: { serial_number: string; expires_at: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    await pollUntil(async () => ((await verify(a.serial_number))?.valid ? true : undefined), 10_000);
    const tokenA = (await api<{ data: { token: string; serial_number: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`, {})).body.data;
    expect(tokenA.serial_number).toBe(a.serial_number);
    expect((await post(tokenA.token, "before-renewal")).status).toBe(202);

    // The edge says when to renew (two thirds into the validity) and flags it once due.
    const first = (await verify(a.serial_number))!;
    expect(Date.parse(first.renew_after!)).toBeLessThan(Date.parse(first.not_after));
    // Renew 10 s before A's notAfter, as a late agent would: renewing within a second of issuance
    // (fast on an idle machine) gives B a 30 s validity that ends inside the sampling window below,
    // which runs past A's notAfter. The overlap (6 s) then ends before A's notAfter.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(a.expires_at) - 10_000 - Date.now())));

    const renewed = await api<{ data: { serial_number: string; predecessor: { superseded_at: string } } }>(
      "POST", `/v1/agents/${agent}/certificates/renew`, { overlap_seconds: OVERLAP_S });
    expect(renewed.status).toBe(201);
    const b = renewed.body.data.serial_number;
    const supersededAt = Date.parse(renewed.body.data.predecessor.superseded_at);

    // Sample until past A's notAfter: at every instant A or B verifies valid at the edge.
    const end = Date.parse(a.expires_at) + 1500;
    const gaps: string[] = [];
    let sawSuperseded: Verdict | undefined;
    let tokenAfterSupersede: number | undefined;
    while (Date.now() < end) {
      const t = new Date().toISOString();
      const [va, vb] = await Promise.all([verify(a.serial_number), verify(b)]);
      if (!va?.valid && !vb?.valid) gaps.push(`${t}: A ${va?.status}, B ${vb?.status ?? "not yet at the edge"}`);
      if (va?.status === "superseded") sawSuperseded ??= va;
      if (va?.status === "superseded" && tokenAfterSupersede === undefined) tokenAfterSupersede = (await post(tokenA.token, "after-supersede")).status;
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(gaps).toEqual([]);
    expect(Date.now()).toBeGreaterThan(supersededAt);
    // Superseded by renewal: not valid, with its own reason code, distinguishable from a revocation.
    expect(sawSuperseded).toMatchObject({ valid: false, superseded_by: b });
    expect(sawSuperseded!.reasons.map((r) => r.code)).toEqual(["superseded"]);
    // The token minted under A kept working after A was superseded: it follows the successor.
    expect(tokenAfterSupersede).toBe(202);
    const vb = (await verify(b))!;
    expect(vb).toMatchObject({ status: "active", valid: true, expires_soon: Date.now() >= Date.parse(vb.renew_after!) });
  }, 120_000);

  it("a high-risk agent renewed through the origin: gateways with max_band=medium refuse its successor too", async () => {
    // Flagged for review rather than auto-revoked (a suspended agent cannot be renewed).
    expect((await api("PATCH", "/v1/tenant/policy", { auto_revoke: false })).status).toBe(200);
    const agent = (await api<{ data: { id: string } }>("POST", "/v1/agents", agentBody())).body.data.id;
    const a = (await api<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    await pollUntil(async () => ((await verify(a.serial_number))?.valid ? true : undefined), 10_000);
    const token = (await api<{ data: { token: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`, {})).body.data.token;
    // An action outside the agent's scopes is high on its own.
    expect((await post(token, "in-scope")).status).toBe(202);
    expect((await post(token, "out-of-scope", "payments.refund")).status).toBe(202);
    const gate = async (serial: string) => {
      const r = await fetch(`${sys.edge.url}/v1/verify/${serial}?max_band=medium`);
      return r.status === 200 ? ((await r.json()) as { data: Verdict }).data : undefined;
    };
    await pollUntil(async () => ((await gate(a.serial_number))?.reasons.some((r) => r.code === "risk_too_high") ? true : undefined), 10_000);
    const renewed = await api<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certificates/renew`, {});
    expect(renewed.status).toBe(201);
    const b = renewed.body.data.serial_number;
    // Once the successor is at the edge it is refused for the agent's risk, not read as a clean new serial.
    const { value: vb } = await pollUntil(async () => gate(b), 10_000);
    expect(vb).toMatchObject({ status: "active", valid: false });
    expect(vb.reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
  }, 60_000);
});
