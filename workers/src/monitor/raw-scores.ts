import { DEFAULT_SCORING } from "@kakunin/shared";

type Sql = DurableObjectStorage["sql"];

/**
 * How far back a review's clear reads the scorer's own scores (AgentMonitor.riskSince): eight decay
 * times, below 0.001 of any score. An event's `raw` (its score where the tenant's view differs) is
 * of no use after that.
 */
export const RAW_READ_MS = 8 * DEFAULT_SCORING.riskDecayMs;

/** Forwarded rows one alarm clears `raw` on at most (the prune's bound), so a monitor catching up stays within its CPU time. */
const RAW_CLEAR_LIMIT = 100_000;

/**
 * The scorer's own verdict to store beside the tenant's view of an event (for a late event, its
 * score times what is left of it: engine.ts adds only that to the agent's risk, and a clear that
 * restored a history event of hours ago at its full score made the cleared agent high again), or
 * null where the two are the same: a tenant's thresholds, or weights on features the event did not show, change neither
 * the score nor the reasons, and every stored `raw` sits in the row of a de-duplication id, kept
 * for 31 days and up to 10 M of them (dedupe-ids.ts sized them at about 300 bytes each).
 */
export function rawToStore(raw: { score: number; reasons: readonly object[] }, shown: { score: number; reasons: readonly object[] }): string | null {
  const own = JSON.stringify({ score: raw.score, reasons: raw.reasons });
  return own === JSON.stringify({ score: shown.score, reasons: shown.reasons }) ? null : own;
}

/**
 * The alarm's clear of `raw` on forwarded rows older than RAW_READ_MS: read for two hours, it was
 * kept with the id for 31 days and roughly doubled what an id costs an agent under a tenant's
 * weights or sensitivity. A watermark in meta makes each run walk only the rows received since the
 * last one (events_forwarded's received_at order), not the table. Rows still waiting for the origin
 * past the window keep theirs (at most the edge's backlog bound). Call inside a transaction.
 */
export function clearOldRaw(sql: Sql, now: number): number {
  const cutoff = now - RAW_READ_MS;
  const from = Number(sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'raw_cleared_until'").toArray()[0]?.v ?? 0);
  if (!(cutoff > from)) return 0;
  // The newest receipt time within the run's bound: rows sharing it are taken together (a batch shares one).
  const upTo = sql
    .exec<{ t: number | null }>(
      "SELECT max(received_at) AS t FROM (SELECT received_at FROM events WHERE payload IS NULL AND received_at > ? AND received_at <= ? ORDER BY received_at LIMIT ?)",
      from,
      cutoff,
      RAW_CLEAR_LIMIT,
    )
    .one().t;
  const until = upTo === null ? cutoff : Number(upTo);
  const cleared = sql.exec(
    "UPDATE events SET raw = NULL WHERE payload IS NULL AND received_at > ? AND received_at <= ? AND raw IS NOT NULL",
    from,
    until,
  ).rowsWritten;
  sql.exec("INSERT INTO meta (k, v) VALUES ('raw_cleared_until', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", String(until));
  return cleared;
}
