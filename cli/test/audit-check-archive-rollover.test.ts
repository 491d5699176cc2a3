/**
 * `kakunin audit check-archive` across an issuing-CA rollover (docs/ca-lifecycle.md). Each issuing
 * CA has its own audit certificate, so every tree head archived before the rollover is signed by an
 * audit certificate of the retired CA, which does not chain to the issuing CA GET /v1/ca names now.
 * Until 2026-12-07 the untouched archive of any tenant that had rolled over its CA therefore failed
 * check "CA chain" for every earlier head, and nothing could make it pass: the compliance officer
 * could not tell that archive from a forged one. `--earlier-issuers FILE` (the retired issuing CAs,
 * PEM: a bundle's `earlier_issuers_pem`) lets each head chain to the CA that certified its signer,
 * checked as strictly as `audit verify` checks earlier issuers.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLocalArchive } from "../../origin/src/archive/local.ts";
import { Archiver } from "../../origin/src/audit/archiver.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { kakunin, parsed } from "./support/run.ts";

interface Report {
  ok: boolean;
  proven_size: number;
  checks: { id: string; status: string; failures: { subject: string; reasons: string[] }[] }[];
}

let o: TestOrigin;
const work = mkdtempSync(join(tmpdir(), "kakunin-archive-rollover-"));
const env = { KAKUNIN_CONFIG: join(work, "no-config.json") };
const path = (name: string): string => join(work, name);
let archived = "";
let size = 0;

beforeAll(async () => {
  o = await startTestOrigin("pglite");
  const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  const archiver = new Archiver(o.services, createLocalArchive(path("store")), { batchSize: 3, maxAgeMs: 0, log: () => undefined });
  const round = async (name: string) => {
    for (let i = 0; i < 4; i++) expect((await o.json("POST", "/v1/agents", { body: agentBody({ name: `${name}-${i}` }) })).status).toBe(201);
    expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200);
    expect((await archiver.runOnce()).failed).toBe(0);
  };
  await round("before");
  const rolled = await o.json<{ data: { previous: { certificate_pem: string } } }>("POST", "/v1/tenant/ca/rollover");
  expect(rolled.status).toBe(201);
  writeFileSync(path("earlier.pem"), rolled.body.data.previous.certificate_pem);
  await round("after");
  size = (await o.json<{ data: { tree_size: number } }>("GET", "/v1/audit/tree-head")).body.data.tree_size;
  expect((await archiver.runOnce()).failed).toBe(0);
  archived = join(path("store"), "audit", tenant);
  const chain = (await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem;
  writeFileSync(path("chain.pem"), chain);
  writeFileSync(path("root.pem"), chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.at(-1)!);
  // Another root's CA: a "retired issuing CA" the pinned root never signed.
  const other = await startTestOrigin("pglite");
  try {
    writeFileSync(
      path("foreign.pem"),
      (await other.json<{ data: { issuing: { certificate_pem: string } } }>("GET", "/v1/ca")).body.data.issuing.certificate_pem,
    );
  } finally {
    await other.close();
  }
});
afterAll(async () => {
  await o?.close();
  rmSync(work, { recursive: true, force: true });
});

const check = async (...extra: string[]): Promise<Report> => {
  const r = await kakunin(env, "audit", "check-archive", archived, "--chain", path("chain.pem"), "--root", path("root.pem"), "--json", ...extra);
  expect([0, 1]).toContain(r.code);
  return parsed<Report>(r);
};
const failing = (r: Report): string => r.checks.flatMap((c) => c.failures.flatMap((f) => f.reasons.map((x) => `${c.id}: ${f.subject}: ${x}`))).join("\n");

it("without the retired issuing CA the heads signed before the rollover do not chain (the limit, named)", async () => {
  const r = await check();
  expect(r.ok).toBe(false);
  expect(failing(r)).toContain("not signed by the issuing CA");
});

it("with --earlier-issuers the untouched archive verifies across the rollover, every head reproduced", async () => {
  const r = await check("--earlier-issuers", path("earlier.pem"));
  expect(failing(r)).toBe("");
  expect(r.ok).toBe(true);
  expect(r.proven_size).toBe(size);
});

it("a CA the pinned root did not sign, given as an earlier issuer, certifies nothing", async () => {
  const r = await check("--earlier-issuers", path("foreign.pem"));
  expect(r.ok).toBe(false);
  expect(failing(r)).toContain("is not signed by the root CA");
});

it("another tenant's archive does not verify against this tenant's --chain through an earlier issuer of that tenant", async () => {
  // Tenant B of the same deployment (same root): its untouched archive, and its issuing CA handed
  // over as a "retired issuing CA". Nothing in it was ever signed under this tenant's --chain.
  const b = await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: "other-bank" } });
  expect(b.status).toBe(201);
  const key = b.body.data.admin_api_key;
  const other = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant", { key })).body.data.id;
  const archiver = new Archiver(o.services, createLocalArchive(path("store-b")), { batchSize: 3, maxAgeMs: 0, log: () => undefined });
  for (let i = 0; i < 4; i++) expect((await o.json("POST", "/v1/agents", { key, body: agentBody({ name: `b-${i}` }) })).status).toBe(201);
  expect((await o.json("GET", "/v1/audit/tree-head", { key })).status).toBe(200);
  expect((await archiver.runOnce()).failed).toBe(0);
  expect((await archiver.runOnce()).failed).toBe(0);
  const issuing = (await o.json<{ data: { issuing: { certificate_pem: string } } }>("GET", "/v1/ca", { key })).body.data.issuing.certificate_pem;
  writeFileSync(path("other-issuing.pem"), issuing);
  const r = await kakunin(
    env,
    "audit",
    "check-archive",
    join(path("store-b"), "audit", other),
    "--chain",
    path("chain.pem"),
    "--root",
    path("root.pem"),
    "--json",
    "--earlier-issuers",
    path("other-issuing.pem"),
  );
  expect([0, 1]).toContain(r.code);
  const report = parsed<Report>(r);
  expect(report.ok).toBe(false);
  expect(failing(report)).toContain("not the tenant of --chain");
});
