import { eq } from "drizzle-orm";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { tenants } from "../db/schema.ts";
import type { Services } from "../services.ts";

type Policy = (typeof tenants.$inferSelect)["policy"];

/** Merges a policy change into the tenant's policy under a row lock, audited `policy.updated` with before and after. */
export async function patchPolicy(s: Services, tenantId: string, patch: Partial<Policy>, actor: AuditActor): Promise<Policy> {
  return s.db.transaction(async (tx) => {
    const [t] = await tx.select({ policy: tenants.policy }).from(tenants).where(eq(tenants.id, tenantId)).for("update");
    const next = { ...t!.policy, ...patch };
    await tx.update(tenants).set({ policy: next }).where(eq(tenants.id, tenantId));
    await appendAudit(tx, tenantId, [{ kind: "policy.updated", actor, at: s.clock.now(), data: { before: t!.policy, after: next } }]);
    return next;
  });
}
