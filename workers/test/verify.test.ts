import { DEFAULT_TTL_MS } from "../src/verify/status-cache.ts";
import { reset } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { certRec, env, HASH, publish, verify } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

interface V {
  data: {
    status: string;
    valid: boolean;
    reasons: { code: string }[];
    agent_urn: string;
    risk: { score: number; band: string };
    checked_at: string;
    model: { hash: string };
    scopes: string[];
  };
}

describe("GET /v1/verify/:serial", () => {
  it("answers an active certificate with the contract's fields", async () => {
    const rec = certRec();
    await publish([rec]);
    const res = await verify(rec.serial_number);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=2");
    const body = await res.json<V & { data: Record<string, unknown> }>();
    // certificate_pem only when asked for (?include=certificate_pem): see the next test.
    expect(Object.keys(body.data).sort()).toEqual([
      "agent_id",
      "agent_urn",
      "checked_at",
      "expires_soon",
      "model",
      "not_after",
      "not_before",
      "reasons",
      "renew_after",
      "revocation_reason",
      "revoked_at",
      "risk",
      "scopes",
      "serial_number",
      "status",
      "superseded_at",
      "superseded_by",
      "tenant_id",
      "valid",
    ]);
    expect(body.data).toMatchObject({
      status: "active",
      valid: true,
      reasons: [],
      superseded_at: null,
      superseded_by: null,
      expires_soon: false,
      agent_urn: rec.agent_urn,
      risk: { score: 0, band: "low" },
      model: { hash: HASH },
    });
  });

  it("?include=certificate_pem adds the certificate (proof-of-possession gateways); an unknown include is 422", async () => {
    const rec = certRec();
    await publish([rec]);
    for (const q of ["?include=certificate_pem", "?consistency=strong&include=certificate_pem"]) {
      const body = await (await verify(rec.serial_number, q)).json<{ data: Record<string, unknown> }>();
      expect(body.data.certificate_pem, q).toBe(rec.certificate_pem);
      expect(body.data.status, q).toBe("active");
    }
    const bad = await verify(rec.serial_number, "?include=private_key");
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ type: "urn:kakunin:problem:validation-failed", errors: [{ path: "include.0" }] });
  });

  it("revoked: valid false with a reason, cached longer (final)", async () => {
    const rec = certRec({ status: "revoked", revoked_at: new Date().toISOString(), revocation_reason: "risk_threshold" });
    await publish([rec]);
    const res = await verify(rec.serial_number);
    const body = await res.json<V>();
    expect(body.data).toMatchObject({ status: "revoked", valid: false });
    expect(body.data.reasons.map((r) => r.code)).toEqual(["revoked"]);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
  });

  it("expired is computed at request time from not_after", async () => {
    const rec = certRec({ not_after: new Date(Date.now() - 1000).toISOString() });
    await publish([rec]);
    const body = await (await verify(rec.serial_number)).json<V>();
    expect(body.data).toMatchObject({ status: "expired", valid: false });
  });

  it("?model_hash= and ?scope= make valid false with reasons when they do not match", async () => {
    const rec = certRec();
    await publish([rec]);
    const ok = await (await verify(rec.serial_number, `?model_hash=${HASH}&scope=orders.place&scope=crm.lookup_customer`)).json<V>();
    expect(ok.data.valid).toBe(true);
    const other = `sha256:${"cd".repeat(32)}`;
    const bad = await (await verify(rec.serial_number, `?model_hash=${other}&scope=payments.send`)).json<V>();
    expect(bad.data.valid).toBe(false);
    expect(bad.data.reasons.map((r) => r.code).sort()).toEqual(["model_hash_mismatch", "scope_not_granted"]);
    expect(bad.data.status).toBe("active");
  });

  it("accepts upper case and colons; 400 problem for a malformed serial; 404 problem for an unknown one", async () => {
    const rec = certRec();
    await publish([rec]);
    const colons = rec.serial_number.toUpperCase().match(/../g)!.join(":");
    expect((await verify(colons)).status).toBe(200);
    // DER's sign-padding octet, as a gateway reading the raw INTEGER gets it: the same certificate.
    const padded = await verify(`00${rec.serial_number}`);
    expect(padded.status).toBe(200);
    expect((await padded.json<{ data: { serial_number: string } }>()).data.serial_number).toBe(rec.serial_number);
    for (const s of ["xyz", "0".repeat(41), "12 34", "00"]) {
      const r = await verify(encodeURIComponent(s));
      expect(r.status, s).toBe(400);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
    }
    const unknown = await verify("4" + "0".repeat(31));
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toBe("application/problem+json");
    expect(unknown.headers.get("cache-control")).toBe("no-store");
  });

  it("422 for malformed query parameters", async () => {
    const rec = certRec();
    await publish([rec]);
    for (const q of ["?model_hash=md5:abc", "?scope=bad%20scope", "?consistency=maybe"]) {
      const r = await verify(rec.serial_number, q);
      expect(r.status, q).toBe(422);
    }
  });

  it("?consistency=strong reads the ledger, not KV", async () => {
    const rec = certRec();
    await publish([rec]);
    // Simulate a KV read that has not caught up yet: the ledger still answers the truth.
    await env.CERT_STATUS.delete(`cert:${rec.serial_number}`);
    expect((await verify(rec.serial_number)).status).toBe(404);
    const strong = await verify(rec.serial_number, "?consistency=strong");
    expect(strong.status).toBe(200);
    expect(strong.headers.get("cache-control")).toBe("no-store");
  });

  it("shows the risk the monitor published", async () => {
    const rec = certRec();
    await publish([rec]);
    await env.CERT_STATUS.put(`risk:${rec.serial_number}`, JSON.stringify({ score: 0.91 }));
    const body = await (await verify(rec.serial_number)).json<V>();
    expect(body.data.risk).toEqual({ score: 0.91, band: "high" });
  });
});

describe("GET /v1/verify/:serial?max_band= and ?max_risk=", () => {
  it("refuses an agent whose band is above max_band with reason risk_too_high, still active", async () => {
    const rec = certRec();
    await publish([rec]);
    await env.CERT_STATUS.put(`risk:${rec.serial_number}`, JSON.stringify({ score: 0.5, t: Date.now() }));
    const low = await (await verify(rec.serial_number, "?max_band=low")).json<V>();
    expect(low.data).toMatchObject({ status: "active", valid: false });
    expect(low.data.reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
    const medium = await (await verify(rec.serial_number, "?max_band=medium")).json<V>();
    expect(medium.data).toMatchObject({ valid: true, reasons: [] });
    const risk = await (await verify(rec.serial_number, "?max_risk=0.4")).json<V>();
    expect(risk.data.reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
    expect((await (await verify(rec.serial_number, "?max_risk=0.6")).json<V>()).data.valid).toBe(true);
  });

  it("a high agent fails max_band=medium; no risk record means low", async () => {
    const rec = certRec();
    await publish([rec]);
    expect((await (await verify(rec.serial_number, "?max_band=low")).json<V>()).data.valid).toBe(true);
    await env.CERT_STATUS.put(`risk:${rec.serial_number}`, JSON.stringify({ score: 0.9, t: Date.now() }));
    // The first answer is cached in the isolate for at most DEFAULT_TTL_MS (verify/status-cache.ts).
    await new Promise((r) => setTimeout(r, DEFAULT_TTL_MS + 5));
    const high = await (await verify(rec.serial_number, "?max_band=medium")).json<V>();
    expect(high.data.reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
  });

  it("uses the tenant's band thresholds the monitor published with the risk", async () => {
    const rec = certRec();
    await publish([rec]);
    await env.CERT_STATUS.put(`risk:${rec.serial_number}`, JSON.stringify({ score: 0.7, t: Date.now(), thresholds: { medium: 0.2, high: 0.6 } }));
    const body = await (await verify(rec.serial_number, "?max_band=medium")).json<V>();
    expect(body.data.risk.band).toBe("high");
    expect(body.data.valid).toBe(false);
  });

  it("max_band=high refuses no band, as the SDK's maxBand does", async () => {
    const rec = certRec();
    await publish([rec]);
    await env.CERT_STATUS.put(`risk:${rec.serial_number}`, JSON.stringify({ score: 0.97, t: Date.now() }));
    const r = await verify(rec.serial_number, "?max_band=high");
    expect(r.status).toBe(200);
    const body = await r.json<V>();
    expect(body.data.risk.band).toBe("high");
    expect(body.data.valid).toBe(true);
  });

  it("422 problem for a bad max_band or max_risk", async () => {
    const rec = certRec();
    await publish([rec]);
    for (const q of [
      "?max_band=HIGH",
      "?max_band=x",
      "?max_risk=2",
      "?max_risk=abc",
      "?max_risk=",
      "?max_risk=0x1",
      "?max_risk=1e0",
      "?max_risk=%201",
      "?max_risk=Infinity",
    ]) {
      const r = await verify(rec.serial_number, q);
      expect(r.status, q).toBe(422);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    }
  });
});
