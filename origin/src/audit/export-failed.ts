import type { Services } from "../services.ts";
import { isDatabaseUnavailable } from "../db/index.ts";
import { errorFields, type LogFields } from "../observability/logger.ts";
import { appendAudit } from "./append.ts";
import type { AuditActor } from "./types.ts";

/** What stopped an export: a refusal (a Result's error: a code and the component's text) or a thrown value. */
export type ExportFailure = { refused: { code: string; message: string } } | { thrown: unknown };

const SENTENCE = {
  sign: "The export's tree head could not be signed, or its CA chain or consistency proof read; the origin's log has the cause.",
  stream: "The bundle stopped part way through; the origin's log has the cause.",
} as const;

/**
 * The entry's account of a failure: its code and a fixed sentence, never the error's own text. A
 * KeyManager's message names the operator's account, role and key (an AWS error), and a failed
 * query's message is its SQL and parameters; the audit log is append-only, archived under Object
 * Lock and read by the tenant's auditors, so what goes in stays for years. The API answers the same
 * failures with a fixed sentence too (keyManagerFailure, onError). Until 2026-12-07 the text was
 * copied in (origin/test/export-failed-message.test.ts). The cause goes to the operator's log.
 */
function described(stage: "sign" | "stream", f: ExportFailure): { code: string; message: string; log: LogFields } {
  if ("refused" in f) {
    return {
      code: f.refused.code,
      message: SENTENCE[stage],
      log: { error: (f.refused.message.split("\n")[0] ?? "").slice(0, 300), error_kind: f.refused.code },
    };
  }
  return { code: isDatabaseUnavailable(f.thrown) ? "database_unavailable" : "failed", message: SENTENCE[stage], log: errorFields(f.thrown) };
}

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
  f: { agentId: string; checkpoint: number; actor: AuditActor; stage: "sign" | "stream"; failure: ExportFailure },
): Promise<void> {
  const { code, message, log } = described(f.stage, f.failure);
  s.logger.error("evidence export failed after its checkpoint", {
    component: "audit",
    event: "evidence_export_failed",
    agent_id: f.agentId,
    checkpoint_index: f.checkpoint,
    stage: f.stage,
    code,
    ...log,
  });
  try {
    await s.db.transaction((tx) =>
      appendAudit(tx, tenantId, [
        {
          kind: "evidence.export_failed",
          actor: f.actor,
          at: s.clock.now(),
          data: { agent_id: f.agentId, checkpoint_index: f.checkpoint, stage: f.stage, error: { code, message } },
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
