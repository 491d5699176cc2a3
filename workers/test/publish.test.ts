import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { signInternal } from "@kakunin/shared";
import { certRec, env, publish, SECRET, verify } from "./fixtures.ts";

afterEach(async () => { await reset(); });

describe("POST /internal/v1/publish", () => {
  it("applies a signed batch and writes KV", async () => {
    const rec = certRec();
    const res = await publish([rec]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { applied: 1, stale: 0 } });
    expect(JSON.parse((await env.CERT_STATUS.get(`cert:${rec.serial_number}`))!)).toEqual(rec);
  });

  it("refuses unsigned, badly signed, tampered and stale calls with 401 and changes nothing", async () => {
    const rec = certRec();
    const body = JSON.stringify({ records: [rec] });
    const unsigned = await exports.default.fetch("http://edge/internal/v1/publish", { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get("content-type")).toBe("application/problem+json");
    expect((await publish([rec], { secret: "wrong-secret-wrong-secret-wrong-secret" })).status).toBe(401);
    // Signed for one body, sent with another.
    const signed = await signInternal(SECRET, "POST", "/internal/v1/publish", body);
    const tampered = await exports.default.fetch("http://edge/internal/v1/publish", {
      method: "POST", headers: { ...signed, "content-type": "application/json" }, body: body.replace('"active"', '"revoked"'),
    });
    expect(tampered.status).toBe(401);
    const old = await signInternal(SECRET, "POST", "/internal/v1/publish", body, new Date(Date.now() - 10 * 60_000));
    const stale = await exports.default.fetch("http://edge/internal/v1/publish", { method: "POST", headers: { ...old, "content-type": "application/json" }, body });
    expect(stale.status).toBe(401);
    expect(await env.CERT_STATUS.get(`cert:${rec.serial_number}`)).toBeNull();
  });

  it("refuses a replayed request (same nonce) even with a valid signature", async () => {
    const rec = certRec();
    const body = JSON.stringify({ records: [rec] });
    const signed = await signInternal(SECRET, "POST", "/internal/v1/publish", body);
    const send = () => exports.default.fetch("http://edge/internal/v1/publish", { method: "POST", headers: { ...signed, "content-type": "application/json" }, body });
    expect((await send()).status).toBe(200);
    const replay = await send();
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { detail: string }).detail).toContain("replayed");
  });

  it("never lets a stale record overwrite a newer one", async () => {
    const active = certRec({ v: 100 });
    const revoked = { ...active, v: 200, status: "revoked" as const, revoked_at: new Date().toISOString(), revocation_reason: "compromised" };
    expect(await (await publish([revoked])).json()).toEqual({ data: { applied: 1, stale: 0 } });
    // The older record arrives late (a retry): acknowledged as stale, not applied.
    expect(await (await publish([active])).json()).toEqual({ data: { applied: 0, stale: 1 } });
    const v = await (await verify(active.serial_number)).json<{ data: { status: string } }>();
    expect(v.data.status).toBe("revoked");
  });

  it("validates the batch (422) and bounds its size", async () => {
    const bad = await publish([], { body: JSON.stringify({ records: [{ kind: "cert", v: 1, serial_number: "XYZ" }] }) });
    expect(bad.status).toBe(422);
    const notJson = await publish([], { body: "{nope" });
    expect(notJson.status).toBe(400);
  });
});
