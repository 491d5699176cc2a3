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
    expect(await res.json()).toEqual({ data: { applied: 1, stale: 0, stale_keys: [], head: { epoch: { n: 0, id: "" }, max_v: rec.v } } });
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
    // Not a silent 401: the answer names the skew, its size and direction.
    expect(((await stale.json()) as { detail: string }).detail).toMatch(/clock skew: the caller's timestamp is 60[01] s behind this server's clock \(allowed ±300 s\)/);
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
    expect(await (await publish([revoked])).json()).toEqual({ data: { applied: 1, stale: 0, stale_keys: [], head: { epoch: { n: 0, id: "" }, max_v: 200 } } });
    // The older record arrives late (a retry): acknowledged as stale, not applied, and named.
    expect(await (await publish([active])).json()).toEqual({
      data: { applied: 0, stale: 1, stale_keys: [`cert:${active.serial_number}`], head: { epoch: { n: 0, id: "" }, max_v: 200 } },
    });
    const v = await (await verify(active.serial_number)).json<{ data: { status: string } }>();
    expect(v.data.status).toBe("revoked");
  });

  it("a higher origin epoch replaces what is held whatever its version; an older or conflicting epoch is refused whole", async () => {
    type Ack = { data: { applied: number; stale: number; stale_keys: string[]; head: { epoch: { n: number; id: string }; max_v: number } } };
    const send = async (records: ReturnType<typeof certRec>[], epoch?: { n: number; id: string }) =>
      (await (await publish(records, { body: JSON.stringify({ records, epoch }) })).json()) as Ack;
    const active = certRec({ v: 500 });
    expect((await send([active], { n: 1, id: "db-a" })).data).toMatchObject({ applied: 1, head: { epoch: { n: 1, id: "db-a" }, max_v: 500 } });
    // The database was restored from a dump: its sequence is behind (v 40), the edge says so.
    const revoked = { ...active, v: 40, status: "revoked" as const, revoked_at: new Date().toISOString(), revocation_reason: "after restore" };
    const behind = await send([revoked], { n: 1, id: "db-a" });
    expect(behind.data).toEqual({ applied: 0, stale: 1, stale_keys: [`cert:${active.serial_number}`], head: { epoch: { n: 1, id: "db-a" }, max_v: 500 } });
    // The origin starts epoch 2 and re-publishes: accepted although 40 < 500.
    expect((await send([revoked], { n: 2, id: "db-a2" })).data).toMatchObject({ applied: 1, stale: 0, head: { epoch: { n: 2, id: "db-a2" }, max_v: 40 } });
    expect((await (await verify(active.serial_number)).json<{ data: { status: string } }>()).data.status).toBe("revoked");
    // A late batch of the old epoch, a legacy origin, and another database at epoch 2 are all refused.
    for (const epoch of [{ n: 1, id: "db-a" }, undefined, { n: 2, id: "db-b" }]) {
      const r = await send([{ ...active, v: 9999 }], epoch);
      expect(r.data).toMatchObject({ applied: 0, stale: 1, head: { epoch: { n: 2, id: "db-a2" } } });
    }
    expect((await (await verify(active.serial_number)).json<{ data: { status: string } }>()).data.status).toBe("revoked");
  });

  it("validates the batch (422) and bounds its size", async () => {
    const bad = await publish([], { body: JSON.stringify({ records: [{ kind: "cert", v: 1, serial_number: "XYZ" }] }) });
    expect(bad.status).toBe(422);
    const notJson = await publish([], { body: "{nope" });
    expect(notJson.status).toBe(400);
  });
});
