/**
 * Evidence across an issuing-CA rollover. Until 2026-12-07 a bundle carried only the tenant's
 * current issuing CA: an agent certified before a rollover (its certificate still valid, at the
 * edge too) got evidence that failed `kakunin audit verify` ("not signed by the issuing CA"), and
 * so did a tree head signed before the rollover given as --since-tree-head. The bundle now carries
 * the tenant's earlier issuing CAs (`earlier_issuers_pem`), each checked like the current one:
 * signed by the pinned root, a CA, bound to the tenant.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyBundle, type VerifyReport } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

type Doc = Record<string, unknown> & { earlier_issuers_pem?: string };

describe.each(["kakunin-evidence/3", "kakunin-evidence/2"])("evidence of an agent certified before a rollover (%s)", (format) => {
  let o: TestOrigin;
  let dir = "";
  let rootPem = "";
  let earlierHead: unknown;
  let bundle: Doc;
  let otherTenantCa = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-rollover-evidence-"));
    o = await startTestOrigin("pglite");
    ({ rootPem } = await fetchRoot(o, dir));
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    earlierHead = (await o.json("GET", "/v1/audit/tree-head")).body;
    const size = (earlierHead as { data: { tree_size: number } }).data.tree_size;
    expect((await o.json("POST", "/v1/tenant/ca/rollover")).status).toBe(201);
    const res = await o.request("GET", `/v1/agents/${agent}/evidence?format=${format}&since_size=${size}`);
    expect(res.status).toBe(200);
    bundle = ((await res.json()) as { data: Doc }).data;
    // Another tenant's issuing CA: signed by the same root, bound to the other tenant.
    const t = await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: "other-tenant" } });
    const key = t.body.data.admin_api_key;
    otherTenantCa =
      (await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca", { key })).body.data.chain_pem.split("-----END CERTIFICATE-----")[0]! +
      "-----END CERTIFICATE-----\n";
  }, 300_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (r: VerifyReport, id: string) => r.checks.find((c) => c.id === id)!;

  it("verifies: the certificate chains to the earlier issuing CA, and a tree head signed before the rollover is consistent", async () => {
    expect(bundle.earlier_issuers_pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const report = await verifyBundle(bundle, { rootPem, sinceTreeHead: earlierHead });
    expect(report.ok, report.summary).toBe(true);
    expect(check(report, "consistency").status).toBe("pass");
  });

  it("fails without the earlier CA, with a CA of another tenant in its place, or with one the root did not sign", async () => {
    const { earlier_issuers_pem: _, ...without } = bundle;
    const missing = await verifyBundle(without, { rootPem });
    expect(check(missing, "chain").failures.flatMap((f) => f.reasons)).toContain("not signed by the issuing CA");

    const foreign = await verifyBundle({ ...bundle, earlier_issuers_pem: otherTenantCa }, { rootPem });
    expect(foreign.ok).toBe(false);
    expect(check(foreign, "chain").failures.map((f) => f.subject)).toContain("earlier issuing CA 1");

    // The bundle's own root passed off as an issuing CA: a CA, self-signed, not bound to the tenant.
    const rootAsIssuer = await verifyBundle({ ...bundle, earlier_issuers_pem: rootPem }, { rootPem });
    expect(rootAsIssuer.ok).toBe(false);
    expect(check(rootAsIssuer, "chain").failures).toContainEqual({
      subject: "earlier issuing CA 1",
      reasons: ["it is a root (self-signed), not an issuing CA"],
    });
  });
});
