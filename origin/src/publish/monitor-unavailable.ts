import type { EdgeRecord, PublishAck } from "@kakunin/shared";
import type { EdgeRefusal } from "./edge-client.ts";

/**
 * The agents whose monitor failed, when the edge answered a batch 503 `monitor-unavailable` naming
 * them (workers/src/routes/internal_publish.ts): it applied every record but those agents' feedback
 * and new active certificates. Undefined for any other answer, or one that names no agents (an edge
 * from before `agent_ids`): then nothing is known to be applied and the whole batch is held.
 */
export function monitorUnavailableAgents(e: EdgeRefusal): { agents: ReadonlySet<string>; ack: PublishAck } | undefined {
  if (e.status !== 503) return undefined;
  try {
    const p = JSON.parse(e.body) as { type?: unknown; agent_ids?: unknown; ack?: unknown };
    if (typeof p.type !== "string" || !p.type.endsWith(":monitor-unavailable")) return undefined;
    if (!Array.isArray(p.agent_ids) || !p.agent_ids.every((a) => typeof a === "string")) return undefined;
    // The ledger's answer for the rest of the batch: whether the edge holds a newer epoch, in which
    // case nothing was applied (Publisher.edgeAhead). Without it nothing is known to be applied.
    const ack = asAck(p.ack);
    if (!ack) return undefined;
    return { agents: new Set(p.agent_ids as string[]), ack };
  } catch {
    return undefined;
  }
}

/** Whether the edge applied `r` although it answered monitor-unavailable for `failed`: every record not of those agents. */
export function appliedDespite(r: EdgeRecord, failed: ReadonlySet<string>): boolean {
  return !("agent_id" in r) || !failed.has(r.agent_id);
}

/** The ack a 200 would carry (edge-client.ts reads it the same way), if `v` has its shape. */
function asAck(v: unknown): PublishAck | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const a = v as { applied?: unknown; stale?: unknown; stale_keys?: unknown; head?: { epoch?: { n?: unknown; id?: unknown }; max_v?: unknown } };
  if (typeof a.applied !== "number" || typeof a.stale !== "number") return undefined;
  if (a.stale_keys !== undefined && !(Array.isArray(a.stale_keys) && a.stale_keys.every((k) => typeof k === "string"))) return undefined;
  if (a.head !== undefined && !(typeof a.head?.epoch?.n === "number" && typeof a.head.epoch.id === "string" && typeof a.head.max_v === "number"))
    return undefined;
  return v as PublishAck;
}
