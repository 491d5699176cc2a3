/**
 * Alerts an agent's history can raise, per agent across batches (a token bucket in the monitor's
 * `meta`, key `alert_budget`). Events back-dated up to 30 days that are high on their own each
 * "became high" at their own time while the agent's current risk stays low, so every such event
 * raised an alert: one request of 16 of them raised 16 (MAX_ALERTS_PER_BATCH bounded only the
 * request), and ten requests 160. Each alert is a risk decision and an audit entry at the origin
 * and a risk.high webhook to every endpoint of the tenant (up to 20), and each endpoint's
 * deliveries go out oldest first: one agent's credential could bury the auto_revoked and
 * review_required alerts of every other agent of its tenant behind its own.
 *
 * History posted in time order did the same: an episode days back, ordinary work ten claimed
 * minutes later (the risk decays below high over the claimed gap), the next episode: 16 alerts a
 * request again, for as long as 30 days of claimed time last.
 *
 * The bucket holds ALERT_BURST alerts and gains one every ALERT_REFILL_MS of this edge's time.
 * An alert is history when the agent's risk, decayed to this edge's now, is not high. With the
 * bucket empty it is not raised: its events keep their scores and bands (at the edge and at the
 * origin), and join the batch's next alert if it raises one. The alert of the agent's current
 * risk becoming high is never held back (it decides an auto-revocation); it takes a token when
 * there is one. 64 is more episodes than an honest backfill of 30 days shows (the bench's replays
 * of whole worlds raise a few per agent), so those still raise one alert per episode.
 */
export const ALERT_BURST = 64;
export const ALERT_REFILL_MS = 60_000;

type Sql = DurableObjectStorage["sql"];

export interface AlertBudget {
  /** Whether a history alert may be raised now (and takes a token if so). */
  takeForHistory(): boolean;
  /** A live alert: raised regardless; takes a token when one is left. */
  takeForLive(): void;
  /** Writes the bucket back (inside the ingest's transaction). */
  save(): void;
}

export function alertBudget(sql: Sql, now: number): AlertBudget {
  const row = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'alert_budget'").toArray()[0];
  const stored = row ? (JSON.parse(row.v) as { tokens: number; at: number }) : { tokens: ALERT_BURST, at: now };
  // Refilled by the time this edge saw pass (never the agent's claimed times); a clock that went
  // back refills nothing.
  let tokens = Math.min(ALERT_BURST, stored.tokens + Math.max(0, now - stored.at) / ALERT_REFILL_MS);
  let changed = !row;
  return {
    takeForHistory() {
      if (tokens < 1) return false;
      tokens -= 1;
      changed = true;
      return true;
    },
    takeForLive() {
      if (tokens < 1) return;
      tokens -= 1;
      changed = true;
    },
    save() {
      if (!changed) return;
      sql.exec("INSERT INTO meta (k, v) VALUES ('alert_budget', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", JSON.stringify({ tokens, at: now }));
    },
  };
}
