/**
 * How an AgentMonitor tells the edge's metrics summary (GET /v1/admin/metrics) that it is behind.
 * A Worker cannot enumerate Durable Objects, so a monitor that is *not healthy* — forwarding held
 * (origin unavailable), records quarantined after a refusal, events waiting longer than a minute,
 * or dead letters held — writes one KV key `health:monitor:<agent>` whose metadata carries its
 * numbers; the summary lists that prefix (one KV list, no reads). A healthy monitor writes nothing
 * (the common case costs no KV write); one that recovers deletes its key. Writes are rate-limited
 * (on change, else every 10 min) and expire after an hour, so a monitor that stopped running
 * cannot leave a stale entry forever.
 */
export const HEALTH_PREFIX = "health:monitor:";
/** Events older than this still waiting for the origin make a monitor "behind". */
export const STUCK_AFTER_MS = 60_000;
const REFRESH_MS = 600_000;
const TTL_S = 3600;

export interface MonitorHealth {
  /** The last run held (origin unavailable or failing). */
  holding: boolean;
  events_pending: number;
  alerts_pending: number;
  /** Records refused once, waiting out their own backoff. */
  quarantined: number;
  /** Epoch ms of the oldest event still waiting for the origin (0 when none). */
  oldest_pending_at: number;
  dead_letters: number;
  dead_letters_unreported: number;
  /** Epoch ms of this report. */
  at: number;
}

/** This monitor's numbers, from its own SQLite (indexed counts over small tables). */
export function snapshot(sql: SqlStorage, holding: boolean, now: number): MonitorHealth {
  const one = (q: string) => Number(sql.exec<{ n: number | null }>(q).toArray()[0]?.n ?? 0);
  return {
    holding,
    events_pending: one("SELECT count(*) AS n FROM events WHERE payload IS NOT NULL"),
    alerts_pending: one("SELECT count(*) AS n FROM alerts"),
    quarantined: one("SELECT count(*) AS n FROM forward_failures"),
    oldest_pending_at: one("SELECT min(received_at) AS n FROM events WHERE payload IS NOT NULL"),
    dead_letters: one("SELECT count(*) AS n FROM dead_letters"),
    dead_letters_unreported: one("SELECT count(*) AS n FROM dead_letters WHERE reported = 0"),
    at: now,
  };
}

export function isBehind(h: MonitorHealth): boolean {
  return h.holding || h.quarantined > 0 || h.dead_letters > 0 || (h.oldest_pending_at > 0 && h.at - h.oldest_pending_at > STUCK_AFTER_MS);
}

/** The numbers that matter for "changed since the last report" (not the timestamp). */
const fingerprint = (h: MonitorHealth) =>
  [h.holding, h.events_pending, h.alerts_pending, h.quarantined, h.oldest_pending_at, h.dead_letters, h.dead_letters_unreported].join(",");

/**
 * Writes, refreshes or deletes this monitor's health key. `meta` is the monitor's key/value table
 * (it remembers what was last reported). KV failures only log: health is advisory, and the next
 * alarm tries again.
 */
export async function reportHealth(sql: SqlStorage, kv: KVNamespace, agentId: string, h: MonitorHealth): Promise<void> {
  const key = HEALTH_PREFIX + agentId;
  const last = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'health'").toArray()[0]?.v;
  try {
    if (!isBehind(h)) {
      if (last === undefined) return;
      await kv.delete(key);
      sql.exec("DELETE FROM meta WHERE k = 'health'");
      return;
    }
    const [lastPrint, lastAt] = last ? [last.slice(last.indexOf("|") + 1), Number(last.slice(0, last.indexOf("|")))] : ["", 0];
    if (lastPrint === fingerprint(h) && h.at - lastAt < REFRESH_MS) return;
    await kv.put(key, "", { metadata: h, expirationTtl: TTL_S });
    sql.exec("INSERT INTO meta (k, v) VALUES ('health', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", `${h.at}|${fingerprint(h)}`);
  } catch (e) {
    console.warn(
      JSON.stringify({
        level: "warn",
        msg: "health report failed",
        component: "agent-monitor",
        agent_id: agentId,
        error: e instanceof Error ? e.message : String(e),
      }),
    );
  }
}

export interface ForwardingSummary {
  agents_behind: number;
  agents_holding: number;
  events_pending: number;
  alerts_pending: number;
  quarantined: number;
  oldest_pending_age_seconds: number;
  dead_letters_held: number;
  dead_letters_unreported: number;
  /** More monitors are behind than one listing returns (1000): the sums are lower bounds. */
  truncated: boolean;
}

/** Sums what the monitors that are behind reported (one KV list; metadata only). */
export async function summarise(kv: KVNamespace, now: number): Promise<ForwardingSummary> {
  const listed = await kv.list<MonitorHealth>({ prefix: HEALTH_PREFIX, limit: 1000 });
  const s: ForwardingSummary = {
    agents_behind: 0,
    agents_holding: 0,
    events_pending: 0,
    alerts_pending: 0,
    quarantined: 0,
    oldest_pending_age_seconds: 0,
    dead_letters_held: 0,
    dead_letters_unreported: 0,
    truncated: !listed.list_complete,
  };
  for (const { metadata: h } of listed.keys) {
    if (!h) continue;
    s.agents_behind++;
    if (h.holding) s.agents_holding++;
    s.events_pending += h.events_pending;
    s.alerts_pending += h.alerts_pending;
    s.quarantined += h.quarantined;
    s.dead_letters_held += h.dead_letters;
    s.dead_letters_unreported += h.dead_letters_unreported;
    if (h.oldest_pending_at > 0) s.oldest_pending_age_seconds = Math.max(s.oldest_pending_age_seconds, Math.round((now - h.oldest_pending_at) / 1000));
  }
  return s;
}
