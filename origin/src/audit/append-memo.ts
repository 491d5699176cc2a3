/**
 * What the last append on this origin left behind for a tenant: the tree's right edge and the
 * chain heads of the agents it has seen, under the log's (size, last leaf hash) at that point.
 * The next append, once it holds the head lock, reads the head row anyway; if the row still says
 * that (size, last leaf hash), no other writer has appended since, and the remembered state is
 * exactly what the database holds, so the read of the right edge is skipped.
 *
 * Why a hit can never be stale, even across origins, rollbacks or a restored database: every
 * entry names its own index, its log and its predecessor's leaf hash, so the last leaf hash pins
 * the whole log (to SHA-256 collision resistance); the right edge and the agents' heads are
 * functions of the log (appendAudit is their only writer). A state remembered from a transaction
 * that later rolled back is therefore only ever matched by a log with the very same entries.
 * Bounded: MAX_TENANTS tenants (least recently appended dropped first), MAX_AGENTS agents each.
 */
import type { AgentHead } from "./append-statements.ts";
import type { Frontier } from "./frontier.ts";

const MAX_TENANTS = 1024;
const MAX_AGENTS = 4096;

interface Remembered {
  size: number;
  last: string | null;
  frontier: Frontier;
  agents: Map<string, AgentHead>;
}

const memo = new Map<string, Remembered>();

const copy = (h: AgentHead): AgentHead => ({ ...h });

/** The remembered state if the locked head row still matches it: a copy the caller may change. */
export function recall(tenantId: string, size: number, last: string | null): { frontier: Frontier; agents: Map<string, AgentHead> } | null {
  const m = memo.get(tenantId);
  if (!m || m.size !== size || m.last !== last) return null;
  return { frontier: m.frontier.clone(), agents: new Map([...m.agents].map(([id, h]) => [id, copy(h)])) };
}

/** After an append's write: the state at its new (size, last), plus the agents still valid there. */
export function remember(tenantId: string, last: string, frontier: Frontier, agents: Map<string, AgentHead>, carried: Map<string, AgentHead> | null): void {
  const all = new Map(carried && carried.size + agents.size <= MAX_AGENTS ? carried : []);
  for (const [id, h] of agents) all.set(id, copy(h));
  memo.delete(tenantId);
  memo.set(tenantId, { size: frontier.size, last, frontier: frontier.clone(), agents: all });
  if (memo.size > MAX_TENANTS) memo.delete(memo.keys().next().value!);
}
