/**
 * A renewal prepares its successor (key made in the KMS, then signed) before the transaction that
 * stores it. A revocation committed meanwhile suspends the agent; the renewal then found the
 * locked agent "not active" and answered 422 agent-retired, "agent … is suspended": a client told
 * the agent is retired for good, for an agent that a certify brings back. It now answers what a
 * renewal of a suspended agent answers before any key is made: 409 no-active-certificate.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

let o: TestOrigin;
beforeAll(async () => {
  o = await startTestOrigin("pglite");
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

it("a renewal overtaken by a revocation answers 409 no-active-certificate, as for any suspended agent, not 422 agent-retired", async () => {
  const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
  const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${id}/certify`)).body.data;
  const g = gateKeys();
  const renewing = o.json<{ type: string; detail: string }>("POST", `/v1/agents/${id}/certificates/renew`, { body: {} });
  await g.entered;
  expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "key compromise" } })).status).toBe(200);
  g.release();
  const r = await renewing;
  g.restore();
  expect(r.status, JSON.stringify(r.body)).toBe(409);
  expect(r.body.type).toBe("urn:kakunin:problem:no-active-certificate");
  expect(r.body.detail).toContain("suspended");
  // The same answer a renewal gets once the suspension is known up front.
  const again = await o.json<{ type: string }>("POST", `/v1/agents/${id}/certificates/renew`, { body: {} });
  expect([again.status, again.body.type]).toEqual([r.status, r.body.type]);
  // A certify lifts the suspension, as documented: the agent was never retired.
  expect((await o.json("POST", `/v1/agents/${id}/certify`)).status).toBe(201);
});
