import { and, asc, desc, eq, ilike, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/index.ts";
import { agentEvents, agents, certificates } from "../db/schema.ts";
import { afterCursor, type Cursor } from "../routes/cursor.ts";

export interface AgentFilter {
  status?: "active" | "suspended" | "retired";
  band?: "low" | "medium" | "high";
  name?: string;
  cursor?: Cursor;
  limit: number;
}

export interface AgentRow {
  agent: typeof agents.$inferSelect;
  /** Band and score of the agent's latest event (null: no events yet). */
  band: "low" | "medium" | "high" | null;
  score: number | null;
  certExpiresAt: Date | null;
  serial: string | null;
  /** Scores of the latest events, oldest first, for the sparkline. */
  spark: number[];
}

export const SPARK_POINTS = 30;

/**
 * The latest event's band, as a correlated subquery (uses agent_events_agent_received_idx). Latest
 * is the last received, and within a batch the last the edge scored (claimed-time order): the
 * claimed time alone is the agent's to choose, and a burst stamped 29 days back was not "latest".
 */
const latestBand = sql<
  string | null
>`(select ${agentEvents.band} from ${agentEvents} where ${agentEvents.agentId} = ${agents.id} order by ${agentEvents.receivedAt} desc, ${agentEvents.occurredAt} desc, ${agentEvents.id} desc limit 1)`;
const latestScore = sql<
  number | null
>`(select ${agentEvents.score} from ${agentEvents} where ${agentEvents.agentId} = ${agents.id} order by ${agentEvents.receivedAt} desc, ${agentEvents.occurredAt} desc, ${agentEvents.id} desc limit 1)`;

/**
 * One page of the tenant's agents, oldest first, keyset-paged on (created_at, id) like
 * GET /v1/agents, with what the agents table shows: latest band and score, active certificate
 * expiry and a sparkline of recent scores.
 */
export async function agentsPage(db: Db, tenantId: string, f: AgentFilter): Promise<{ rows: AgentRow[]; next: AgentRow["agent"] | null }> {
  const conds: SQL[] = [eq(agents.tenantId, tenantId)];
  if (f.status) conds.push(eq(agents.status, f.status));
  if (f.band) conds.push(sql`${latestBand} = ${f.band}`);
  if (f.name) conds.push(ilike(agents.name, `%${f.name.replace(/[\\%_]/g, (m) => `\\${m}`)}%`));
  if (f.cursor) conds.push(afterCursor(agents.createdAt, agents.id, f.cursor));
  const found = await db
    .select({ agent: agents, band: latestBand, score: latestScore, certExpiresAt: certificates.expiresAt, serial: certificates.serialNumber })
    .from(agents)
    .leftJoin(certificates, and(eq(certificates.agentId, agents.id), eq(certificates.status, "active")))
    .where(and(...conds))
    .orderBy(asc(agents.createdAt), asc(agents.id))
    .limit(f.limit + 1);
  const page = found.slice(0, f.limit);
  const rows: AgentRow[] = [];
  for (const r of page) {
    const recent = await db
      .select({ score: agentEvents.score })
      .from(agentEvents)
      .where(eq(agentEvents.agentId, r.agent.id))
      .orderBy(desc(agentEvents.receivedAt), desc(agentEvents.occurredAt), desc(agentEvents.id))
      .limit(SPARK_POINTS);
    rows.push({
      agent: r.agent,
      band: (r.band as AgentRow["band"]) ?? null,
      score: r.score === null ? null : Number(r.score),
      certExpiresAt: r.certExpiresAt,
      serial: r.serial,
      spark: recent.map((e) => e.score).reverse(),
    });
  }
  return { rows, next: found.length > f.limit ? page[page.length - 1]!.agent : null };
}
