import type { EdgeRecord } from "@kakunin/shared";
import type { EdgeRefusal } from "./edge-client.ts";

/**
 * The agents whose monitor failed, when the edge answered a batch 503 `monitor-unavailable` naming
 * them (workers/src/routes/internal_publish.ts): it applied every record but those agents' feedback
 * and new active certificates. Undefined for any other answer, or one that names no agents (an edge
 * from before `agent_ids`): then nothing is known to be applied and the whole batch is held.
 */
export function monitorUnavailableAgents(e: EdgeRefusal): ReadonlySet<string> | undefined {
  if (e.status !== 503) return undefined;
  try {
    const p = JSON.parse(e.body) as { type?: unknown; agent_ids?: unknown };
    if (typeof p.type !== "string" || !p.type.endsWith(":monitor-unavailable")) return undefined;
    if (!Array.isArray(p.agent_ids) || !p.agent_ids.every((a) => typeof a === "string")) return undefined;
    return new Set(p.agent_ids as string[]);
  } catch {
    return undefined;
  }
}

/** Whether the edge applied `r` although it answered monitor-unavailable for `failed`: every record not of those agents. */
export function appliedDespite(r: EdgeRecord, failed: ReadonlySet<string>): boolean {
  return !("agent_id" in r) || !failed.has(r.agent_id);
}
