import { and, eq } from "drizzle-orm";
import { hashApiKey } from "./auth/api-keys.ts";
import { createApiKey } from "./auth/create-key.ts";
import type { Db } from "./db/index.ts";
import { apiKeys, tenants } from "./db/schema.ts";
import { appendAudit } from "./audit/append.ts";

export interface BootstrapResult {
  tenantId: string;
  /** Set only when a fresh admin key was generated and must be shown to the operator once. */
  generatedAdminKey?: string;
}

/**
 * Dev bootstrap, like Vault's dev root token: the operator tenant `default` exists, and
 * KAKUNIN_ADMIN_KEY (when given) is one of its admin keys. Without the variable, a first start
 * generates an admin key and returns it for printing; later starts print nothing.
 */
export async function bootstrap(db: Db, adminKey: string | undefined): Promise<BootstrapResult> {
  return db.transaction(async (tx) => {
    let [tenant] = await tx.select().from(tenants).where(eq(tenants.name, "default"));
    let created = false;
    if (!tenant) {
      // ON CONFLICT, not a caught error: PostgreSQL aborts a transaction after any failed statement.
      [tenant] = await tx.insert(tenants).values({ name: "default", isOperator: true }).onConflictDoNothing().returning();
      if (tenant) {
        created = true;
        await appendAudit(tx, tenant.id, [{
          kind: "tenant.created", actor: { type: "system", id: "bootstrap" }, at: tenant.createdAt, data: { tenant_id: tenant.id, name: "default", operator: true },
        }]);
      } else {
        [tenant] = await tx.select().from(tenants).where(eq(tenants.name, "default"));
      }
    }
    const tenantId = tenant!.id;
    if (adminKey) {
      const [existing] = await tx.select({ id: apiKeys.id, tenantId: apiKeys.tenantId }).from(apiKeys)
        .where(eq(apiKeys.keyHash, hashApiKey(adminKey)));
      if (existing && existing.tenantId !== tenantId) throw new Error("KAKUNIN_ADMIN_KEY is already a key of another tenant");
      if (!existing) await createApiKey(tx, { tenantId, name: "bootstrap (KAKUNIN_ADMIN_KEY)", role: "admin", key: adminKey });
      else await tx.update(apiKeys).set({ revokedAt: null }).where(and(eq(apiKeys.id, existing.id)));
      return { tenantId };
    }
    if (created) {
      const { key } = await createApiKey(tx, { tenantId, name: "initial admin", role: "admin" });
      return { tenantId, generatedAdminKey: key };
    }
    return { tenantId };
  });
}
