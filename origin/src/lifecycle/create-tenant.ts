import { ok, type Result } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { createApiKey } from "../auth/create-key.ts";
import { sqlState, UNIQUE_VIOLATION } from "../db/index.ts";
import { tenants } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { fail, type Failure } from "./failure.ts";

/**
 * A new tenant and its first admin key (the key's secret is returned once), both audited in the new
 * tenant's log, naming the operator tenant that created it. A taken name is 409.
 */
export async function createTenant(
  s: Services,
  name: string,
  actor: AuditActor,
  createdByTenant: string,
): Promise<Result<{ tenant: typeof tenants.$inferSelect; adminKey: string }, Failure>> {
  try {
    return ok(
      await s.db.transaction(async (tx) => {
        const [t] = await tx.insert(tenants).values({ name }).returning();
        const { key, row } = await createApiKey(tx, { tenantId: t!.id, name: "initial admin", role: "admin" });
        await appendAudit(tx, t!.id, [
          { kind: "tenant.created", actor, at: t!.createdAt, data: { tenant_id: t!.id, name: t!.name, created_by_tenant: createdByTenant } },
          { kind: "api_key.created", actor, at: t!.createdAt, data: { api_key_id: row.id, name: row.name, role: row.role, prefix: row.prefix } },
        ]);
        return { tenant: t!, adminKey: key };
      }),
    );
  } catch (e) {
    if (sqlState(e) === UNIQUE_VIOLATION) return fail("conflict", `a tenant named '${name}' already exists`);
    throw e;
  }
}
