/**
 * An issuing-CA rollover committed while an evidence export runs. The export read the tenant's
 * chain, its tree-head signer and its retired issuing CAs first, then appended its checkpoint, then
 * asked for the signer again to sign the tree head: after a rollover in between, the head was signed
 * by the new CA's signer while `ca_chain_pem` named the old CA and `earlier_issuers_pem` did not
 * hold the new one. The honest bundle failed `kakunin audit verify` (the signer is not issued by the
 * bundle's issuing CA). The chain and the earlier issuers are now those of the signer that signed
 * the head: its CA as `ca_chain_pem`, every other issuing CA of the tenant in `earlier_issuers_pem`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyBundle } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

describe("a rollover during an export", () => {
  let o: TestOrigin;
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-rollover-during-export-"));
    o = await startTestOrigin("pglite");
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives a bundle whose chain is the one of the CA that certified the tree-head signer", async () => {
    const { rootPem } = await fetchRoot(o, dir);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200);
    // The rollover commits between the export's first look at the signer and the signature.
    const ca = o.services.ca;
    const signerFor = ca.auditSignerFor.bind(ca);
    let calls = 0;
    ca.auditSignerFor = async (tenant) => {
      if (++calls === 2) expect((await o.json("POST", "/v1/tenant/ca/rollover")).status).toBe(201);
      return signerFor(tenant);
    };
    let bundle: unknown;
    try {
      const res = await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence`);
      expect(res.status).toBe(200);
      bundle = res.body.data;
    } finally {
      ca.auditSignerFor = signerFor;
    }
    expect(calls).toBeGreaterThanOrEqual(2);
    const report = await verifyBundle(bundle, { rootPem });
    const failed = report.checks.filter((c) => c.status === "fail").map((c) => `${c.id}: ${c.summary} ${JSON.stringify(c.failures).slice(0, 300)}`);
    expect(failed).toEqual([]);
  }, 120_000);
});
