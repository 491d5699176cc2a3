/**
 * A certificate is prepared (its key generated in the KMS, then signed) before the transaction
 * that stores it. A PATCH changing the agent's model committed in between was missed: the
 * transaction re-checked only the agent's status, and an active certificate stated the old model,
 * though a new model.hash must revoke the active certificate (design). Certify and renew now
 * compare the model on the row they lock and issue nothing when it changed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Cert {
  id: string;
  status: string;
  certificate_pem: string;
}

describe("certify and renew racing a model change", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    // CA keys first, so the gate below holds only the agent's key.
    expect((await o.json("GET", "/v1/ca")).status).toBe(200);
  });
  afterAll(async () => {
    await o.close();
  });

  /** Holds the next key generation until `release()`; `entered` resolves when it started. */
  function gateKeys(): { entered: Promise<void>; release: () => void; restore: () => void } {
    const keys = o.services.keys;
    const createKey = keys.createKey.bind(keys);
    let release!: () => void;
    let enter!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const entered = new Promise<void>((r) => (enter = r));
    keys.createKey = async (label, opts) => {
      enter();
      await gate;
      return createKey(label, opts);
    };
    return { entered, release, restore: () => (keys.createKey = createKey) };
  }
  const model = (hash: string, version = "2024-08-06") => ({ model: { name: "gpt-4o", version, hash: `sha256:${hash.repeat(32)}` } });

  it("certify: a model hash changed while the key was being made issues nothing (409); certifying again states the new model", async () => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "race-certify", ...model("ab") }) })).body.data.id;
    const g = gateKeys();
    const certifying = o.json<{ type: string; detail: string }>("POST", `/v1/agents/${id}/certify`);
    await g.entered;
    expect((await o.json("PATCH", `/v1/agents/${id}`, { body: model("cd") })).status).toBe(200);
    g.release();
    const r = await certifying;
    g.restore();
    expect(r.status).toBe(409);
    expect(r.body.type).toBe("urn:kakunin:problem:conflict");
    expect(r.body.detail).toContain("model changed");
    const certs = await o.json<{ data: Cert[] }>("GET", `/v1/agents/${id}/certificates`);
    expect(certs.body.data.filter((c) => c.status === "active")).toEqual([]);
    const again = await o.json<{ data: Cert }>("POST", `/v1/agents/${id}/certify`);
    expect(again.status).toBe(201);
    // The new certificate names the model the agent runs now (its SAN URI is ASCII in the DER).
    const der = Buffer.from(again.body.data.certificate_pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    expect(der.includes(Buffer.from(`sha256:${"cd".repeat(32)}`))).toBe(true);
    expect(der.includes(Buffer.from(`sha256:${"ab".repeat(32)}`))).toBe(false);
  });

  it("renew: a model changed while the successor's key was being made renews nothing (409); the current certificate stays active", async () => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "race-renew", ...model("ab") }) })).body.data.id;
    const current = (await o.json<{ data: Cert }>("POST", `/v1/agents/${id}/certify`)).body.data;
    const g = gateKeys();
    const renewing = o.json<{ type: string }>("POST", `/v1/agents/${id}/certificates/renew`, { body: {} });
    await g.entered;
    // A new version of the same model: no revocation, but the successor would state the old one.
    expect((await o.json("PATCH", `/v1/agents/${id}`, { body: model("ab", "2025-01-01") })).status).toBe(200);
    g.release();
    const r = await renewing;
    g.restore();
    expect(r.status).toBe(409);
    expect(r.body.type).toBe("urn:kakunin:problem:renewal-in-progress");
    expect((await o.json<{ data: Cert }>("GET", `/v1/certificates/${current.id}`)).body.data.status).toBe("active");
    expect((await o.json("POST", `/v1/agents/${id}/certificates/renew`, { body: {} })).status).toBe(201);
  });
});
