import { and, eq } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { sqlState, UNIQUE_VIOLATION } from "../db/index.ts";
import { caRequests, managedKeys } from "../db/schema.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import type { Services } from "../services.ts";
import { fail, keyManagerFailure, type Failure } from "./failure.ts";
import { discardKey, keyDeps } from "./keys.ts";

export type CaRequest = typeof caRequests.$inferSelect;

/**
 * Offline-root mode, step 1 (docs/ca-lifecycle.md): a key for the tenant's next issuing CA in the
 * KeyManager and a PKCS#10 request for it, kept `pending` until the operator imports the
 * certificate the root signed offline. One pending request per tenant: asking again returns the
 * same request (`created: false`), so a lost CSR file is fetched again rather than a key made twice.
 */
export async function requestIssuingCa(
  s: Services,
  tenant: { id: string; name: string },
  actor: AuditActor,
): Promise<Result<{ request: CaRequest; created: boolean }, Failure>> {
  if (!s.ca.offlineRoot) {
    return fail("conflict", "issuing-CA requests are for offline-root mode (KAKUNIN_ROOT_CERT_FILE); with an online root use POST /v1/tenant/ca/rollover");
  }
  const root = await s.ca.root();
  if (!root.ok) return keyManagerFailure(root.error);
  const pending = async () =>
    (
      await s.db
        .select()
        .from(caRequests)
        .where(and(eq(caRequests.tenantId, tenant.id), eq(caRequests.status, "pending")))
    )[0];
  const existing = await pending();
  if (existing) return ok({ request: existing, created: false });
  const generation = (await s.ca.issuersOf(tenant.id)).length + 1;
  const csr = await s.ca.requestIssuing(tenant, generation);
  if (!csr.ok) return keyManagerFailure(csr.error);
  try {
    const request = await s.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(caRequests)
        .values({
          tenantId: tenant.id,
          keyRef: csr.value.keyRef,
          generation,
          csrPem: csr.value.csrPem,
          createdAt: s.clock.now(),
        })
        .returning();
      await appendAudit(tx, tenant.id, [
        {
          kind: "ca.requested",
          actor,
          at: s.clock.now(),
          data: { request_id: row!.id, generation, key_ref: csr.value.keyRef },
        },
      ]);
      return row!;
    });
    return ok({ request, created: true });
  } catch (e) {
    if (sqlState(e) !== UNIQUE_VIOLATION) throw e;
    // Two requests at once: the other one's is the tenant's pending request; this key is an orphan.
    const [intent] = await s.db.select({ id: managedKeys.id }).from(managedKeys).where(eq(managedKeys.keyRef, csr.value.keyRef));
    if (intent) {
      await discardKey(keyDeps(s), { ref: csr.value.keyRef, publicKeySpki: csr.value.spki, intentId: intent.id }, "lost CA request race", s.clock.now());
    }
    const winner = await pending();
    if (!winner) return fail("conflict", "the tenant's CA request changed concurrently; retry");
    return ok({ request: winner, created: false });
  }
}
