/**
 * An export appends its checkpoint, signs a tree head ending with it (one KeyManager call, which
 * takes time in a KMS or an HSM), and only then read the agent's certificates for the bundle's
 * header, computing their status at the export's clock. A revocation (or a certify, a renewal)
 * committed in between, e.g. by the on-call revoking the agent while compliance exports its
 * evidence, was in the header but its entry, appended after the checkpoint, was not in the
 * bundle: the honest bundle failed "header agrees with the signed entries". The certificates are
 * now read under the log's lock in the checkpoint's transaction (every change committed before is
 * in the log before the checkpoint; none committed after is visible), and their status is computed
 * at the signed tree head's time, which is what the verifier compares it with.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TREE_HEAD_CONTEXT } from "@kakunin/shared";
import { ManualClock } from "../../origin/src/clock.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyBundle } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

describe("an export while the agent's certificates change", () => {
  let o: TestOrigin;
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-concurrent-change-"));
    o = await startTestOrigin("pglite");
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a revocation committed while the tree head is being signed is not in the header of a bundle that does not hold its entry", async () => {
    const { rootPem } = await fetchRoot(o, dir);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
    // Warm the tree-head signer, then revoke from inside the next tree-head signature: after the
    // export's checkpoint committed, before it signed.
    expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200);
    const keys = o.services.keys;
    const sign = keys.sign.bind(keys);
    const context = new TextEncoder().encode(TREE_HEAD_CONTEXT);
    let armed = true;
    keys.sign = async (ref, data) => {
      if (armed && Buffer.from(data.subarray(0, context.length)).equals(Buffer.from(context))) {
        armed = false;
        const r = await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "keyCompromise" } });
        expect(r.status).toBe(200);
      }
      return sign(ref, data);
    };
    try {
      const bundle = (await o.json<{ data: { certificates: { status: string }[] } }>("GET", `/v1/agents/${agent}/evidence`)).body.data;
      expect(armed).toBe(false);
      const report = await verifyBundle(bundle, { rootPem });
      const failed = report.checks.filter((c) => c.status === "fail").map((c) => `${c.id}: ${c.summary} ${JSON.stringify(c.failures).slice(0, 400)}`);
      expect(failed).toEqual([]);
      expect(bundle.certificates.map((c) => c.status)).toEqual(["active"]);
    } finally {
      keys.sign = sign;
    }
    // The next export holds the revocation, entry and header alike.
    const after = await verifyBundle((await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence`)).body.data, { rootPem });
    expect(after.ok, after.summary).toBe(true);
  }, 120_000);

  it("a renewal overlap that ends while the tree head is being signed: the header states the status at the signed time", async () => {
    const clock = new ManualClock(new Date());
    const slow = await startTestOrigin("pglite", { clock });
    try {
      const { rootPem } = await fetchRoot(slow, dir);
      const agent = (await slow.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      expect((await slow.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
      expect((await slow.json("POST", `/v1/agents/${agent}/certificates/renew`, { body: { overlap_seconds: 60 } })).status).toBe(201);
      expect((await slow.json("GET", "/v1/audit/tree-head")).status).toBe(200);
      // Half a second before the overlap ends; the tree-head signature takes a second (a slow KMS).
      clock.advance(59_500);
      const keys = slow.services.keys;
      const sign = keys.sign.bind(keys);
      const context = new TextEncoder().encode(TREE_HEAD_CONTEXT);
      keys.sign = async (ref, data) => {
        if (Buffer.from(data.subarray(0, context.length)).equals(Buffer.from(context))) clock.advance(1_000);
        return sign(ref, data);
      };
      const bundle = (await slow.json<{ data: { certificates: { status: string }[] } }>("GET", `/v1/agents/${agent}/evidence`)).body.data;
      keys.sign = sign;
      // The verifier's clock is the real one (now is 60 s before the manual clock): only the header check matters here.
      const report = await verifyBundle(bundle, { rootPem });
      const header = report.checks.find((c) => c.id === "header")!;
      expect(header.status, JSON.stringify(header.failures).slice(0, 600)).toBe("pass");
      expect(bundle.certificates.map((c) => c.status)).toEqual(["renewed", "active"]);
    } finally {
      await slow.close();
    }
  }, 120_000);
});
