import { ok, type Result } from "@kakunin/shared";
import { sql, type SQL } from "drizzle-orm";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { createApiKey } from "../auth/create-key.ts";
import { sqlState, UNIQUE_VIOLATION } from "../db/index.ts";
import { tenants } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { fail, type Failure } from "./failure.ts";

/** Thrown inside the transaction to roll it back when an equal name (as X.500 compares it) exists. */
class NameTaken extends Error {
  constructor(readonly existing: string) {
    super(`tenant name taken: ${existing}`);
  }
}

/** RFC 4518 string preparation as far as tenant names (ASCII letters, digits, space, '.', '_', '-') need it. */
const foldedName = (v: SQL): SQL => sql`lower(btrim(regexp_replace(${v}, ' +', ' ', 'g')))`;

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
        // The name is the O= and CN= of the tenant's issuing CA. RFC 5280 §7.1 compares names with
        // RFC 4518 caseIgnoreMatch (case and insignificant spaces folded; openssl's X509_NAME_cmp
        // too), so "Acme" beside "acme" or "Acme " would be two CAs with one DN under the root,
        // which §4.1.2.6 forbids. Only operator admins create tenants; the unique index still
        // catches two identical names created at once.
        const [taken] = await tx
          .select({ name: tenants.name })
          .from(tenants)
          .where(sql`${foldedName(sql`${tenants.name}`)} = ${foldedName(sql`${name}`)}`)
          .limit(1);
        if (taken) throw new NameTaken(taken.name);
        const [t] = await tx.insert(tenants).values({ name }).returning();
        const { key, row } = await createApiKey(tx, { tenantId: t!.id, name: "initial admin", role: "admin" });
        // The operator's log first (its head is the one concurrent creations queue on; the new
        // tenant's is invisible to everyone until this commits). The operator admin receives the
        // new tenant's admin key: the operator's auditors, who cannot read the new tenant's log,
        // must see that in their own.
        await appendAudit(tx, createdByTenant, [
          {
            kind: "tenant.created",
            actor,
            at: t!.createdAt,
            data: { tenant_id: t!.id, name: t!.name, admin_api_key_id: row.id, admin_api_key_prefix: row.prefix },
          },
        ]);
        await appendAudit(tx, t!.id, [
          { kind: "tenant.created", actor, at: t!.createdAt, data: { tenant_id: t!.id, name: t!.name, created_by_tenant: createdByTenant } },
          { kind: "api_key.created", actor, at: t!.createdAt, data: { api_key_id: row.id, name: row.name, role: row.role, prefix: row.prefix } },
        ]);
        return { tenant: t!, adminKey: key };
      }),
    );
  } catch (e) {
    if (e instanceof NameTaken)
      return fail(
        "conflict",
        `a tenant named '${e.existing}' already exists (names are compared as certificate names: case and repeated or trailing spaces do not count)`,
      );
    if (sqlState(e) === UNIQUE_VIOLATION) return fail("conflict", `a tenant named '${name}' already exists`);
    throw e;
  }
}
