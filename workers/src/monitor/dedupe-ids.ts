/**
 * The event ids an AgentMonitor remembers so a re-sent event is acknowledged once. They are kept for
 * DEDUPE_MS, and at most MAX_DEDUPE_IDS of them: an id costs about 300 bytes (its stored answer), so
 * an agent sending 25 events per second would otherwise pass a Durable Object's 10 GB within the 31
 * days, and from then on every ingest would fail. Past the count the oldest forwarded ids go first.
 * An id forgotten early is taken as new if it is ever sent again: it is scored again at the edge,
 * and the origin's unique index dead-letters it (409, the first receipt named), so nothing is stored
 * twice. Events still waiting for the origin are never dropped here (MAX_PENDING_EVENTS bounds them).
 */
const DEDUPE_MS = 31 * 86_400_000;
/** About 3 GB: 31 days for an agent under 3.7 events per second, 4.6 days at 25 per second. */
export const MAX_DEDUPE_IDS = 10_000_000;
/** Rows one alarm deletes at most, so a monitor catching up (after an upgrade, or idle weeks) stays within its CPU time. */
const PRUNE_LIMIT = 100_000;

type Sql = DurableObjectStorage["sql"];

/**
 * Rows in `events` (waiting and forwarded), kept in meta so the alarm need not count millions of
 * rows. A monitor without the count (new, or from a build before it) counts its rows once.
 */
function storedCount(sql: Sql): number | undefined {
  const row = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'ids'").toArray()[0];
  return row ? Number(row.v) : undefined;
}

function countRows(sql: Sql): number {
  return Number(sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n);
}

function setIdCount(sql: Sql, n: number): void {
  sql.exec("INSERT INTO meta (k, v) VALUES ('ids', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", String(n));
}

/** How often the stored count is checked against the table (one count(*) a day, ~1 s at 10 M rows). */
const RECOUNT_MS = 86_400_000;

/**
 * The stored count, recounted once a day: anything that ever deletes rows without it (a rollback
 * to a build before the count, whose alarm deleted aged ids itself) would otherwise leave it high
 * for good, and the alarm would then forget ids before their time.
 */
function trustedCount(sql: Sql, now: number): number {
  const counted = Number(sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'ids_counted_at'").toArray()[0]?.v ?? Number.NaN);
  const stored = storedCount(sql);
  if (stored !== undefined && now - counted < RECOUNT_MS) return stored;
  sql.exec("INSERT INTO meta (k, v) VALUES ('ids_counted_at', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", String(now));
  return countRows(sql);
}

/** Called inside the ingest's transaction, after it stored `added` events. */
export function addIds(sql: Sql, added: number): void {
  if (added === 0) return;
  const known = storedCount(sql);
  // Without a stored count, the rows counted now already include the ones just added.
  setIdCount(sql, known === undefined ? countRows(sql) : known + added);
}

/**
 * The alarm's prune: forwarded ids older than DEDUPE_MS, and the oldest forwarded ids past `max`,
 * at most PRUNE_LIMIT a run (the next alarm goes on). Call inside a transaction. Returns how many went.
 */
export function pruneIds(sql: Sql, now: number, max: number): number {
  const total = trustedCount(sql, now);
  const aged = Number(
    sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE payload IS NULL AND received_at < ? LIMIT ?)", now - DEDUPE_MS, PRUNE_LIMIT)
      .one().n,
  );
  const wanted = Math.min(PRUNE_LIMIT, Math.max(aged, total - max));
  let removed = 0;
  if (wanted > 0) {
    // (received_at, rowid) is the order of the events_forwarded index: an index walk, not a sort.
    const oldest = "SELECT rowid FROM events WHERE payload IS NULL ORDER BY received_at, rowid LIMIT ?";
    removed = Number(sql.exec<{ n: number }>(`SELECT count(*) AS n FROM (${oldest})`, wanted).one().n);
    sql.exec(`DELETE FROM events WHERE rowid IN (${oldest})`, wanted);
  }
  setIdCount(sql, total - removed);
  return removed;
}
