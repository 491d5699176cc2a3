import type { Services } from "../services.ts";
import { errorFields } from "../observability/logger.ts";
import { appendAudit } from "./append.ts";
import type { AuditActor } from "./types.ts";

/**
 * Records that the export whose checkpoint is `checkpoint` never reached its caller: the tree head
 * could not be signed (KeyManager down, the log rewritten) or the stream failed part way. The
 * checkpoint was committed first (it must be in the tree the head signs) and the log is
 * append-only, so it stays, and its kind alone says an export happened. This entry says it did not
 * complete. It goes to the tenant's log without `agent_id`: the agent's chain, and so every bundle,
 * keeps its shape (the failed checkpoint is an ordinary activity entry of it). Best effort: the
 * caller's error is what matters to the caller, so a failure here is logged, never thrown.
 */
export async function recordFailedExport(
  s: Services,
  tenantId: string,
  f: { agentId: string; checkpoint: number; actor: AuditActor; stage: "sign" | "stream"; error: { code?: string; message: string } },
): Promise<void> {
  try {
    await s.db.transaction((tx) =>
      appendAudit(tx, tenantId, [
        {
          kind: "evidence.export_failed",
          actor: f.actor,
          at: s.clock.now(),
          data: {
            agent_id: f.agentId,
            checkpoint_index: f.checkpoint,
            stage: f.stage,
            error: { code: f.error.code ?? "failed", message: f.error.message.slice(0, 500) },
          },
        },
      ]),
    );
  } catch (e) {
    s.logger.error("failed export not recorded in the audit log", {
      component: "audit",
      event: "export_failure_unrecorded",
      agent_id: f.agentId,
      checkpoint_index: f.checkpoint,
      ...errorFields(e),
    });
  }
}
