import { eq } from "drizzle-orm";
import { DEFAULT_THRESHOLDS, mergeThresholds, ok, type BandThresholds, type Result, type TenantScoringOverrides, type TenantScoring } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { tenants } from "../db/schema.ts";
import { enqueue } from "../publish/outbox.ts";
import type { Services } from "../services.ts";
import { failField, type Failure } from "./failure.ts";

/** Either band line or both (the route checks their ranges); a null line is the default again. */
type ThresholdsPatch = { medium?: number | null | undefined; high?: number | null | undefined };

/**
 * A PATCH: each present field replaces the stored one; `null` removes it. Thresholds merge: a line
 * left out keeps the stored value, or the default for a shadow candidate (a whole configuration).
 */
export interface ScoringPatch {
  thresholds?: ThresholdsPatch | null;
  weights?: TenantScoringOverrides["weights"] | null;
  shadow?: { thresholds?: ThresholdsPatch | undefined; weights?: TenantScoringOverrides["weights"] } | null;
}

/** The merged lines, or the 422 naming the line the caller gave that breaks medium < high. */
function merged(base: BandThresholds, patch: ThresholdsPatch, at: string): Result<BandThresholds, Failure> {
  const m = mergeThresholds(base, patch);
  return m.ok ? ok(m.value) : failField(`${at}.${m.path}`, m.message, "1 invalid field(s) in the request body");
}

/**
 * Changes the tenant's scoring overrides in one transaction with its audit entry and the outbox
 * row that publishes them to every edge (the AgentMonitors read them on the next ingest). A new or
 * changed shadow candidate restarts its report (`since`), and so does a change of the active
 * configuration it is compared with.
 */
export async function updateScoring(s: Services, tenantId: string, patch: ScoringPatch, actor: AuditActor): Promise<Result<TenantScoring, Failure>> {
  const now = s.clock.now();
  return s.db.transaction(async (tx) => {
    const [t] = await tx.select({ scoring: tenants.scoring }).from(tenants).where(eq(tenants.id, tenantId)).for("update");
    const before = t!.scoring;
    const next: TenantScoring = { ...before };
    if (patch.thresholds !== undefined) {
      const t = patch.thresholds === null ? null : merged(before.thresholds ?? DEFAULT_THRESHOLDS, patch.thresholds, "thresholds");
      if (t && !t.ok) return t;
      setOrDrop(next, "thresholds", t ? t.value : null);
    }
    if (patch.weights !== undefined) setOrDrop(next, "weights", patch.weights);
    if (patch.shadow !== undefined) {
      if (patch.shadow === null) next.shadow = null;
      else {
        const { thresholds, weights } = patch.shadow;
        const t = thresholds ? merged(DEFAULT_THRESHOLDS, thresholds, "shadow.thresholds") : undefined;
        if (t && !t.ok) return t;
        next.shadow = { ...(t ? { thresholds: t.value } : {}), ...(weights ? { weights } : {}), since: now.toISOString() };
      }
    } else if (next.shadow && !sameActive(before, next)) {
      // The report compares the candidate with the active configuration: verdicts given against the
      // one just replaced say what the candidate would have changed then, not now (promote the
      // candidate's values without `shadow: null`, and the report still said it would move those
      // agents). A new active configuration restarts the candidate's report, as setting it again does.
      next.shadow = { ...next.shadow, since: now.toISOString() };
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

/** Whether the active thresholds and weights are the same (a PATCH may set a value it already has). */
function sameActive(a: TenantScoring, b: TenantScoring): boolean {
  const ta = a.thresholds ?? DEFAULT_THRESHOLDS;
  const tb = b.thresholds ?? DEFAULT_THRESHOLDS;
  if (ta.medium !== tb.medium || ta.high !== tb.high) return false;
  const wa = a.weights ?? {};
  const wb = b.weights ?? {};
  const features = new Set([...Object.keys(wa), ...Object.keys(wb)]);
  return [...features].every((f) => (wa[f] ?? 1) === (wb[f] ?? 1));
}
