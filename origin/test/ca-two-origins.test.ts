import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { x509 } from "../src/ca/x509.ts";
import { agentBody, freshPostgresDatabase, postgresUrl, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Authority {
  serial_number: string;
  subject: string;
}

/**
 * Two origins on one PostgreSQL database: a rollover on origin A must be seen by origin B at its
 * next certify, not after B restarts (docs/ca-lifecycle.md, "Several origins"). Each origin keeps
 * the active CA in memory; the check against the database is what makes that safe.
 */
let a: TestOrigin;
let b: TestOrigin;
let drop: (() => Promise<void>) | undefined;
beforeAll(async () => {
  if (!postgresUrl()) return;
  const db = await freshPostgresDatabase();
  drop = db.drop;
  // One master key: origin B must be able to use keys origin A created (local KeyManager).
  const env = { KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64") };
  const adminKey = `test-admin-${randomBytes(12).toString("hex")}`;
  a = await startTestOrigin("postgres", { databaseUrl: db.url, adminKey, env });
  b = await startTestOrigin("postgres", { databaseUrl: db.url, adminKey, env });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await drop?.();
});

const certifyOn = async (o: TestOrigin) => {
  const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
  const r = await o.json<{ data: { certificate_pem: string } }>("POST", `/v1/agents/${id}/certify`);
  expect(r.status).toBe(201);
  return r.body.data;
};
const activeOn = async (o: TestOrigin) => (await o.json<{ data: { issuing: Authority } }>("GET", "/v1/ca")).body.data.issuing;

it.skipIf(!postgresUrl())("after a rollover on origin A, origin B certifies from the new CA at once", async () => {
  // Both origins have loaded (and memoised) generation 1.
  await certifyOn(a);
  const g1 = await activeOn(b);
  await certifyOn(b);
  const r = await a.json<{ data: { current: Authority; previous: Authority } }>("POST", "/v1/tenant/ca/rollover");
  expect(r.status).toBe(201);
  expect(r.body.data.previous.serial_number).toBe(g1.serial_number);
  const g2 = r.body.data.current.serial_number;

  // B answers GET /v1/ca and certifies with generation 2 without a restart.
  expect((await activeOn(b)).serial_number).toBe(g2);
  const issuedOnB = await certifyOn(b);
  expect(new x509.X509Certificate(issuedOnB.certificate_pem).issuer).toBe(r.body.data.current.subject);

  // And a rollover on B after that chains on from generation 2 (B's idea of "current" is fresh).
  const again = await b.json<{ data: { current: Authority; previous: Authority } }>("POST", "/v1/tenant/ca/rollover");
  expect(again.status).toBe(201);
  expect(again.body.data.previous.serial_number).toBe(g2);
  expect(again.body.data.current.subject).toMatch(/ G3$/);
  expect((await activeOn(a)).serial_number).toBe(again.body.data.current.serial_number);
});

it.skipIf(!postgresUrl())("after a rollover on origin A, tree heads from both origins are signed under the new CA and each accepts the other's", async () => {
  // Both origins have signed a tree head (and memoised their signer) under the current CA.
  const head = async (o: TestOrigin) => {
    const r = await o.json<{ data: { signer_certificate_pem: string } }>("GET", "/v1/audit/tree-head");
    expect(r.status).toBe(200);
    return new x509.X509Certificate(r.body.data.signer_certificate_pem).issuer;
  };
  await certifyOn(a);
  await head(a);
  await head(b);
  const r = await a.json<{ data: { current: Authority } }>("POST", "/v1/tenant/ca/rollover");
  expect(r.status).toBe(201);
  // Until 2026-12-06 the origin that rolled over kept its remembered signer under the retired CA
  // (a restarted or second origin made one under the new CA), and each then refused the other's
  // heads with 503. New entries between the heads make each one a new signature.
  for (const o of [a, b, a, b]) {
    await certifyOn(o);
    expect(await head(o)).toBe(r.body.data.current.subject);
  }
});
