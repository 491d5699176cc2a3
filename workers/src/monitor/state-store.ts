/**
 * The scorer's state in the Durable Object's `meta` table, split over rows. Cloudflare caps a
 * SQLite-backed object's string, BLOB or row at 2 MB, and the state is bounded in UTF-16 units
 * (MAX_STATE_BYTES, 2.5 M), which is up to three UTF-8 bytes each: an agent posting long non-Latin
 * resource names reached about 5 MB in one value, every later ingest failed (a 500 for good), and
 * local workerd, which does not enforce the cap, could not show it. Each row now holds at most
 * STATE_CHUNK_UNITS units (≤ 1.2 MB of UTF-8). Row `state` is the first chunk, so a state stored
 * in one row by an older build is read as it is.
 */
export const STATE_CHUNK_UNITS = 400_000;

const upsert = "INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v";

/** Chunk boundaries of `json`, never between the two halves of a surrogate pair (each would be stored as U+FFFD). */
export function chunkBounds(json: string, units = STATE_CHUNK_UNITS): number[] {
  const ends: number[] = [];
  let at = 0;
  while (at < json.length) {
    let end = Math.min(json.length, at + units);
    const last = json.charCodeAt(end - 1);
    if (end < json.length && last >= 0xd800 && last <= 0xdbff) end--;
    ends.push(end);
    at = end;
  }
  return ends.length > 0 ? ends : [0];
}

export function saveState(sql: SqlStorage, json: string, units = STATE_CHUNK_UNITS): void {
  let start = 0;
  const ends = chunkBounds(json, units);
  ends.forEach((end, i) => {
    sql.exec(upsert, i === 0 ? "state" : `state#${i}`, json.slice(start, end));
    start = end;
  });
  // A state that shrank (a review, evictions) leaves no stale tail behind.
  sql.exec("DELETE FROM meta WHERE k LIKE 'state#%' AND CAST(substr(k, 7) AS INTEGER) >= ?", ends.length);
}

/** The stored state's JSON, or undefined before the first ingest. */
export function loadStateJson(sql: SqlStorage): string | undefined {
  const rows = sql.exec<{ k: string; v: string }>("SELECT k, v FROM meta WHERE k = 'state' OR k LIKE 'state#%'").toArray();
  if (!rows.some((r) => r.k === "state")) return undefined;
  const index = (k: string) => (k === "state" ? 0 : Number(k.slice(6)));
  return rows
    .sort((a, b) => index(a.k) - index(b.k))
    .map((r) => r.v)
    .join("");
}
