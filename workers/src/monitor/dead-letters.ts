/**
 * The monitor's bookkeeping for records the origin refused: per-record attempts with their own
 * backoff (a refused record is retried alone, out of the way of the others), and the dead-letter
 * table it lands in after MAX_ATTEMPTS. Dead letters are reported to the origin, which lists them
 * (`GET /v1/admin/dead-letters`) and replays them once fixed.
 */
export type LetterKind = "event" | "alert";

/** Attempts of a record sent alone before it is dead-lettered. */
export const MAX_ATTEMPTS = 6;
/** First retry of a refused record after 30 s, doubling, at most 1 h apart: ~15 min to the dead letter. */
const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 3_600_000;
/** Reported dead letters are kept this long at the edge (the origin holds them for the operator). */
const KEEP_REPORTED_MS = 30 * 86_400_000;

export type Failure = {
  ref: string;
  attempts: number;
  status: number;
  error: string;
  first_at: number;
};

export type DeadLetterRow = {
  key: string;
  kind: LetterKind;
  ref: string;
  payload: string;
  status: number;
  error: string;
  attempts: number;
  first_failed_at: number;
  dead_at: number;
  reported: number;
};

export const DEAD_LETTER_DDL = `
  CREATE TABLE IF NOT EXISTS forward_failures (kind TEXT NOT NULL, ref TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL,
    status INTEGER NOT NULL, error TEXT NOT NULL, first_at INTEGER NOT NULL, PRIMARY KEY (kind, ref));
  CREATE TABLE IF NOT EXISTS dead_letters (key TEXT PRIMARY KEY, kind TEXT NOT NULL, ref TEXT NOT NULL, payload TEXT NOT NULL,
    status INTEGER NOT NULL, error TEXT NOT NULL, attempts INTEGER NOT NULL, first_failed_at INTEGER NOT NULL, dead_at INTEGER NOT NULL,
    reported INTEGER NOT NULL DEFAULT 0);
`;

export class DeadLetterStore {
  constructor(private readonly sql: SqlStorage, private readonly agentId: () => string) {}

  /** Refs of this kind waiting out a per-record backoff (excluded from ordinary batches). */
  quarantined(kind: LetterKind): Set<string> {
    return new Set(this.sql.exec<{ ref: string }>("SELECT ref FROM forward_failures WHERE kind = ?", kind).toArray().map((r) => r.ref));
  }

  /** Quarantined records whose retry is due, oldest failure first. */
  due(kind: LetterKind, now: number, limit: number): string[] {
    return this.sql.exec<{ ref: string }>(
      "SELECT ref FROM forward_failures WHERE kind = ? AND next_at <= ? ORDER BY first_at LIMIT ?", kind, now, limit,
    ).toArray().map((r) => r.ref);
  }

  /** The earliest quarantined retry, for the next alarm. */
  nextDue(): number | undefined {
    return this.sql.exec<{ t: number | null }>("SELECT min(next_at) AS t FROM forward_failures").toArray()[0]?.t ?? undefined;
  }

  /**
   * Counts one refusal of a record sent alone. Returns true when it has used its attempts: the
   * caller then moves it to the dead letters.
   */
  recordRefusal(kind: LetterKind, ref: string, status: number, error: string, now: number): boolean {
    const prior = this.sql.exec<Failure>("SELECT ref, attempts, status, error, first_at FROM forward_failures WHERE kind = ? AND ref = ?", kind, ref).toArray()[0];
    const attempts = (prior?.attempts ?? 0) + 1;
    if (attempts >= MAX_ATTEMPTS) return true;
    const nextAt = now + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
    this.sql.exec(
      `INSERT INTO forward_failures (kind, ref, attempts, next_at, status, error, first_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(kind, ref) DO UPDATE SET attempts = excluded.attempts, next_at = excluded.next_at, status = excluded.status, error = excluded.error`,
      kind, ref, attempts, nextAt, status, error.slice(0, 2000), prior?.first_at ?? now,
    );
    return false;
  }

  /** Delivered after all: forget its failures. */
  clear(kind: LetterKind, ref: string): void {
    this.sql.exec("DELETE FROM forward_failures WHERE kind = ? AND ref = ?", kind, ref);
  }

  /** Moves a record to the dead letters (the caller removes it from its queue in the same step) and logs it. */
  bury(kind: LetterKind, ref: string, payload: string, status: number, error: string, now: number): void {
    const prior = this.sql.exec<Failure>("SELECT ref, attempts, status, error, first_at FROM forward_failures WHERE kind = ? AND ref = ?", kind, ref).toArray()[0];
    const key = `edge:${this.agentId()}:${kind}:${ref}`;
    const attempts = (prior?.attempts ?? 0) + 1;
    this.sql.exec(
      `INSERT INTO dead_letters (key, kind, ref, payload, status, error, attempts, first_failed_at, dead_at, reported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
       ON CONFLICT(key) DO UPDATE SET payload = excluded.payload, status = excluded.status, error = excluded.error, attempts = excluded.attempts,
         dead_at = excluded.dead_at, reported = 0`,
      key, kind, ref, payload, status, error.slice(0, 2000), attempts, prior?.first_at ?? now, now,
    );
    this.clear(kind, ref);
    // One structured line per dead letter: the operator's log search finds every one.
    console.warn(JSON.stringify({ level: "warn", msg: "dead-lettered", component: "agent-monitor", key, kind, ref, status, attempts, error: error.slice(0, 300) }));
  }

  list(): DeadLetterRow[] {
    return this.sql.exec<DeadLetterRow>("SELECT * FROM dead_letters ORDER BY dead_at").toArray();
  }

  unreported(limit: number): DeadLetterRow[] {
    return this.sql.exec<DeadLetterRow>("SELECT * FROM dead_letters WHERE reported = 0 ORDER BY dead_at LIMIT ?", limit).toArray();
  }

  markReported(keys: string[]): void {
    for (const k of keys) this.sql.exec("UPDATE dead_letters SET reported = 1 WHERE key = ?", k);
  }

  prune(now: number): void {
    this.sql.exec("DELETE FROM dead_letters WHERE reported = 1 AND dead_at < ?", now - KEEP_REPORTED_MS);
  }
}
