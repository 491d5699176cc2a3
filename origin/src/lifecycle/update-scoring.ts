import { eq } from "drizzle-orm";
import { ok, type Result, type TenantScoringOverrides, type TenantScoring } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { tenants } from "../db/schema.ts";
import { enqueue } from "../publish/outbox.ts";
import type { Services } from "../services.ts";
import type { Failure } from "./failure.ts";

/** A PATCH: each present field replaces the stored one; `null` removes it. */
export interface ScoringPatch {
  thresholds?: TenantScoringOverrides["thresholds"] | null;
  weights?: TenantScoringOverrides["weights"] | null;
  shadow?: TenantScoringOverrides | null;
}

/**
 * Changes the tenant's scoring overrides in one transaction with its audit entry and the outbox
 * row that publishes them to every edge (the AgentMonitors read them on the next ingest). A new or
 * changed shadow candidate restarts its report (`since`).
 */
export async function updateScoring(s: Services, tenantId: string, patch: ScoringPatch, actor: AuditActor): Promise<Result<TenantScoring, Failure>> {
  const now = s.clock.now();
  return s.db.transaction(async (tx) => {
    const [t] = await tx.select({ scoring: tenants.scoring }).from(tenants).where(eq(tenants.id, tenantId)).for("update");
    const before = t!.scoring;
    const next: TenantScoring = { ...before };
    if (patch.thresholds !== undefined) setOrDrop(next, "thresholds", patch.thresholds);
    if (patch.weights !== undefined) setOrDrop(next, "weights", patch.weights);
    if (patch.shadow !== undefined) {
      next.shadow = patch.shadow === null ? null : { ...patch.shadow, since: now.toISOString() };
    }
    await tx.update(tenants).set({ scoring: next }).where(eq(tenants.id, tenantId));
    await appendAudit(tx, tenantId, [{ kind: "scoring.updated", actor, at: now, data: { before, after: next } }]);
    await enqueue(tx, [{ kind: "scoring", subject: tenantId }]);
    return ok(next);
  });
}

function setOrDrop<K extends "thresholds" | "weights">(o: TenantScoring, k: K, v: TenantScoring[K] | null): void {
  if (v === null) delete o[k];
  else o[k] = v;
}
