import { DurableObject } from "cloudflare:workers";
import {
  acceptAsNormal, applyOverrides, bandOf, decayRisk, DEFAULT_SCORING, DEFAULT_THRESHOLDS, isIdentity, newState, reviveState, roundScore, scoreEvent, toScoredInput, type AgentEvent,
  type BandThresholds, type MonitorState, type Reason,
} from "@kakunin/shared";
import { alertBudget } from "./alert-budget.ts";
import { DEAD_LETTER_DDL, DeadLetterStore, type DeadLetterRow } from "./dead-letters.ts";
import { addIds, MAX_DEDUPE_IDS, pruneIds } from "./dedupe-ids.ts";
import { clearOldRaw, RAW_READ_MS, rawToStore } from "./raw-scores.ts";
import { Forwarder } from "./forwarder.ts";
import { reportHealth, snapshot } from "./health.ts";
import { loadStateJson, saveState } from "./state-store.ts";
import { tenantVerdict } from "./tenant-verdict.ts";
import type { AgentContext, EventResult, IngestBackpressure, IngestOutcome, RiskView } from "./types.ts";

/** The agent's risk as its tenant sees it (overrides and sensitivity applied): what verify and /risk show. */
interface RiskState {
  score: number;
  /** The scorer's risk time: the latest time the agent claimed for an event (its own clock). */
  t: number;
  reasons: Reason[];
  thresholds: BandThresholds;
  /**
   * When this edge set it (its own clock): "became high" decays what the tenant was told over the
   * time that really passed since. Absent in a view stored before it: `t` stands in.
   */
  at?: number;
}

const MAX_BACKOFF_MS = 60_000;
/** KV allows about one write per second per key; risk is written on a band change or at most every 5 s. */
const RISK_WRITE_INTERVAL_MS = 5_000;
/**
 * The risk is the agent's, and gateways read it under the serial they were shown: it is published
 * under the agent's last few serials (the current certificate, and a renewal's predecessor, which
 * stays valid through its overlap). Renewing again during an overlap ends the earlier one, so three
 * covers every serial that can still verify.
 */
const RISK_SERIALS = 3;
/**
 * Events waiting for the origin, per agent, beyond which the edge refuses new batches (503 with
 * Retry-After) instead of acknowledging them. An event's stored payload is at most about 10 KB (8 KiB
 * of attributes), so this bounds the backlog near 2 GB, inside a Durable Object's 10 GB beside the
 * de-duplication ids: without it an origin outage of hours filled the object, and from then on every
 * ingest failed (SQLITE_FULL) after events had been acknowledged for as long as there was room.
 */
export const MAX_PENDING_EVENTS = 200_000;
/** Series snapshots kept for reviews (one per alert, newest first): a clear closes the newest alerts. */
const ALERT_MARKS = 16;
/**
 * Alerts one batch can raise (one per time the risk became high). Each is a decision at the origin
 * and a risk.high webhook to the tenant's receivers; late events high on their own each count as
 * "became high" (the agent's current risk stays low), so without a bound one request of 1000 of
 * them raised 1000. Honest history has a handful of episodes in a batch; past the cap the last
 * alert takes the rest, as one alert per batch did.
 */
export const MAX_ALERTS_PER_BATCH = 16;

/**
 * One per agent. Scores each event in time order with the deterministic scorer, remembers event ids
 * (a duplicate is acknowledged, never scored or counted twice), keeps the scorer's bounded state in
 * SQLite, and forwards every accepted event with its score to the origin from an alarm, retrying
 * with backoff until acknowledged. When the agent's risk reaches high it queues a risk alert the
 * same way. Everything is written in one storage transaction before the 202 is returned.
 */
export class AgentMonitor extends DurableObject<Env> {
  private state?: MonitorState;
  private riskState?: RiskState;
  private lastRiskWrite = { at: 0, band: "low" as string };
  /** The backlog cap (MAX_PENDING_EVENTS; tests lower it). */
  maxPending = MAX_PENDING_EVENTS;
  /** The cap on de-duplication ids (MAX_DEDUPE_IDS; tests lower it). */
  maxIds = MAX_DEDUPE_IDS;
  /**
   * Events waiting for the origin: counted from storage when unknown, then kept by ingest (which
   * only adds) and recounted by the alarm (the only place forwarding removes any).
   */
  private pending?: number;
  private readonly letters: DeadLetterStore;
  private readonly forwarder: Forwarder;
  private readonly agent: () => AgentContext | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const agent = (this.agent = () => {
      const row = ctx.storage.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'agent'").toArray()[0];
      return row ? (JSON.parse(row.v) as AgentContext) : undefined;
    });
    this.letters = new DeadLetterStore(ctx.storage.sql, () => agent()?.agentId ?? ctx.id.toString());
    this.forwarder = new Forwarder(env, ctx.storage.sql, this.letters, agent);
    const hadMarks = ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alert_marks'").toArray().length > 0;
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, result TEXT NOT NULL, payload TEXT);
      CREATE INDEX IF NOT EXISTS events_pending ON events (received_at) WHERE payload IS NOT NULL;
      -- The alarm's prune of forwarded ids past the dedupe window (payload IS NULL), which the
      -- partial index above cannot serve: without it every alarm scanned the whole table.
      CREATE INDEX IF NOT EXISTS events_forwarded ON events (received_at) WHERE payload IS NULL;
      CREATE TABLE IF NOT EXISTS alerts (alert_id TEXT PRIMARY KEY, payload TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS alert_marks (at INTEGER PRIMARY KEY, seen TEXT NOT NULL);
    ` + DEAD_LETTER_DDL);
    // Columns added since the tables were first created, on monitors that predate them.
    // `request_id`: the ingest's x-request-id, forwarded with the row; null on rows stored before it.
    // `raw` (events): the scorer's own verdict on an event ({score, reasons}; for a late event the score is what is
    // left of it, as the scorer's lingering risk took it) where the tenant's view of it differs
    // (weights, sensitivity, lateness): what a review's clear restores the lingering risk from (riskSince).
    // Null where the two are the same, on rows stored before the column existed, and (the alarm,
    // raw-scores.ts) on forwarded rows older than a clear reads back.
    for (const [table, added] of [["events", ["request_id", "raw"]], ["alerts", ["request_id"]]] as const) {
      const cols = new Set(ctx.storage.sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().map((c) => c.name));
      for (const col of added) if (!cols.has(col)) ctx.storage.sql.exec(`ALTER TABLE ${table} ADD COLUMN ${col} TEXT`);
    }
    if (!hadMarks) this.markUpgrade();
  }

  /**
   * A monitor created by a build before alert_marks has alerts with no mark, and a review of one of
   * them would accept none of the numeric series' values it showed (seriesAt finds nothing). Each
   * series' count now stands in for them: everything the old alerts can have shown is at or before
   * it (and the build that raised them accepted every value). Kept once; a new monitor has no state.
   */
  private markUpgrade(): void {
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM meta WHERE k = 'state'").toArray().length === 0) return;
    const seen = Object.fromEntries(Object.entries(this.load().amounts).map(([k, v]) => [k, v.seen]));
    sql.exec("INSERT INTO meta (k, v) VALUES ('marks_since', ?) ON CONFLICT(k) DO NOTHING", JSON.stringify({ at: Date.now(), seen }));
  }

  private load(): MonitorState {
    if (!this.state) {
      const json = loadStateJson(this.ctx.storage.sql);
      this.state = json !== undefined ? reviveState(JSON.parse(json)) : newState();
    }
    return this.state;
  }

  private loadRisk(): RiskState {
    if (!this.riskState) {
      const row = this.ctx.storage.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'risk_view'").toArray()[0];
      const s = this.load();
      this.riskState = row ? (JSON.parse(row.v) as RiskState) : { ...s.risk, thresholds: DEFAULT_THRESHOLDS };
    }
    return this.riskState;
  }

  /** `requestId`: the ingest's x-request-id, sent along when these events (and an alert they raise) reach the origin. */
  async ingest(agent: AgentContext, events: AgentEvent[], requestId?: string): Promise<IngestOutcome | IngestBackpressure> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    // Backpressure before acknowledging anything: the batch is refused whole (its events are not
    // stored, not scored), and the agent sends it again once forwarding has caught up.
    this.pending ??= Number(sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE payload IS NOT NULL").one().n);
    if (this.pending + events.length > this.maxPending) {
      await this.scheduleForwarding(0);
      return { backlogFull: true, pending: this.pending, retryAfterS: 30 };
    }
    const results = new Map<number, EventResult>();
    // Score in event-time order (stable for equal timestamps); answer in request order.
    const order = events.map((e, i) => ({ e, i, ts: Date.parse(e.timestamp) })).sort((a, b) => a.ts - b.ts || a.i - b.i);
    const seenInBatch = new Set<string>();
    let accepted = 0;
    let duplicates = 0;
    // One alert per time the risk became high, as the scorer raised them: a batch of history (a
    // backfill, an evaluator's replay; up to 1000 events, often days) can hold several episodes, and
    // one alert for the batch merged them into one review alert and one risk.high webhook, so what
    // the system reported depended on how the agent batched. Each alert names the batch's high
    // events from its trigger to the next alert's (the first also those before it).
    const alerts: { score: number; reasons: EventResult["reasons"]; n: number; events: string[] }[] = [];
    const highBefore: string[] = [];
    let newSerial = false;
    const outcome = this.rollingBack(() => this.ctx.storage.transactionSync(() => {
      const state = this.load();
      const budget = alertBudget(sql, now);
      // A token minted for a renewed certificate speaks for its successor (ingest/authenticate.ts):
      // both serials can be shown to gateways until the overlap ends.
      newSerial = this.rememberSerials(agent.tokenSerial ? [agent.tokenSerial, agent.serial] : [agent.serial]);
      for (const { e, i } of order) {
        const prior = seenInBatch.has(e.event_id)
          ? undefined
          : sql.exec<{ result: string }>("SELECT result FROM events WHERE event_id = ?", e.event_id).toArray()[0];
        if (seenInBatch.has(e.event_id) || prior) {
          duplicates++;
          const original = prior ? (JSON.parse(prior.result) as EventResult) : results.get(order.find((o) => o.e.event_id === e.event_id)!.i)!;
          results.set(i, { ...original, duplicate: true });
          continue;
        }
        seenInBatch.add(e.event_id);
        const input = toScoredInput(e);
        const before = { score: decayRisk(state.risk.score, input.ts - state.risk.t), reasons: state.risk.reasons };
        // The band the tenant was shown before this event (its thresholds then), for "became high",
        // decayed over the time this edge saw pass since it was set: the claimed times are the
        // agent's to choose, and an agent stamping a new burst seconds after its last alert, hours
        // later, was judged "already high" and raised no alert (frozen-clock-alert.test.ts).
        const shown = this.loadRisk();
        const shownBand = bandOf(decayRisk(shown.score, shown.at !== undefined ? now - shown.at : input.ts - shown.t), shown.thresholds);
        // Receipt time: a future-stamped event (≤ 5 min, clock skew) does not make the next ones late.
        const raw = scoreEvent(state, input, agent.scopes, DEFAULT_SCORING, now);
        const { event, risk, thresholds, shadow } = tenantVerdict(before, raw, agent.scoring, agent.sensitivity, shownBand);
        this.riskState = { score: risk.score, t: state.risk.t, reasons: risk.reasons, thresholds, at: now };
        const result: EventResult = { event_id: e.event_id, score: event.score, band: event.band, reasons: event.reasons };
        results.set(i, result);
        accepted++;
        // "Became high" at a time the agent claimed: a late event high on its own, or history
        // posted in time order days back. Unless the agent's risk, decayed to this edge's now, is
        // high, the alert is about the past and is held to the agent's budget (alert-budget.ts).
        const live = bandOf(decayRisk(risk.score, Math.max(0, now - state.risk.t)), thresholds) === "high";
        const raise = risk.becameHigh && alerts.length < MAX_ALERTS_PER_BATCH && (live || budget.takeForHistory());
        if (raise && live) budget.takeForLive();
        if (raise) {
          alerts.push({ score: risk.score, reasons: risk.reasons, n: state.n, events: [...highBefore.splice(0), ...(event.band === "high" ? [e.event_id] : [])] });
        } else {
          const last = alerts.at(-1);
          // Past the cap the last alert takes the newest trigger's risk, as the batch's one alert did.
          if (risk.becameHigh && last) Object.assign(last, { score: risk.score, reasons: risk.reasons });
          if (event.band === "high") (last?.events ?? highBefore).push(e.event_id);
        }
        const forwarded = {
          agent_id: agent.agentId, tenant_id: agent.tenantId, serial_number: agent.serial, event: e,
          score: event.score, band: event.band, reasons: event.reasons, received_at: new Date(now).toISOString(),
          ...(shadow && { shadow }),
        };
        // What the event left in the scorer's own lingering risk: its score, or for a late event
        // what is left of it (the scorer's `late`), which a clear restores the risk from (riskSince).
        const own = rawToStore({ score: roundScore(raw.event.score * (raw.risk.late ?? 1)), reasons: raw.event.reasons }, event);
        sql.exec(
          "INSERT INTO events (event_id, received_at, result, payload, request_id, raw) VALUES (?, ?, ?, ?, ?, ?)",
          e.event_id, now, JSON.stringify(result), JSON.stringify(forwarded), requestId ?? null, own,
        );
      }
      // The last keeps the id one alert per batch had (the batch's event count); earlier ones take
      // their trigger's, which no other batch of this agent can have.
      alerts.forEach((a, k) => {
        const n = k === alerts.length - 1 ? state.n : a.n;
        this.queueAlert(agent, `${agent.agentId}:${now}:${n}`, a, a.events, now, requestId);
      });
      addIds(sql, accepted);
      budget.save();
      saveState(sql, JSON.stringify(state));
      sql.exec("INSERT INTO meta (k, v) VALUES ('agent', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", JSON.stringify(agent));
      if (this.riskState) sql.exec("INSERT INTO meta (k, v) VALUES ('risk_view', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", JSON.stringify(this.riskState));
      // Dirty with the events that moved it, until the KV write after the commit clears it: should
      // the object fail in between, the alarm publishes it (a retry of the batch is all duplicates).
      if (accepted > 0) sql.exec("INSERT INTO meta (k, v) VALUES ('risk_dirty', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", this.serials().join(","));
      return { accepted, duplicates, results: events.map((_, i) => results.get(i)!) };
    }));
    this.pending += outcome.accepted;
    if (outcome.accepted > 0) {
      // The alarm first: it is what delivers the events just committed, so nothing that can fail
      // afterwards (the KV risk write) may leave them waiting for the agent's next event.
      // While the origin is unavailable the alarm's backoff stands (an alert still goes at once).
      if (alerts.length > 0) await this.scheduleForwarding(0);
      else await this.scheduleForwardingUnlessHeld(250);
      await this.publishRiskOrDefer(alerts.length > 0 || newSerial);
    } else if (this.pending > 0) {
      // Only duplicates: they may be a retry of a batch that committed while the object failed
      // before arming its alarm (a reset at the await after the commit). The retry is answered
      // 202, so its waiting events must have a delivery due, not wait for the agent's next new event.
      await this.armIfIdle();
    }
    return outcome;
  }

  /**
   * Runs a storage transaction that also changes the in-memory state. The scorer learns in place,
   * so when the transaction fails (a storage limit, a full disk) storage rolls back but the object
   * would keep the refused batch learned: the client's retry was then learned twice, and the
   * refused events' risk was what /risk and the next KV write showed. The cached state is dropped
   * instead and read again from storage, as after an eviction.
   */
  private rollingBack<T>(run: () => T): T {
    try {
      return run();
    } catch (e) {
      this.state = undefined;
      this.riskState = undefined;
      throw e;
    }
  }

  risk(agentId: string): RiskView {
    const state = this.load();
    const r = this.loadRisk();
    const score = roundScore(decayRisk(r.score, Date.now() - r.t));
    // When this edge last updated it: the agent's claimed times are its own (up to 30 days back, 5
    // minutes ahead), and an agent scored a second ago read as quiet for hours, or updated in the future.
    const updated = r.at ?? r.t;
    return {
      agent_id: agentId, score, band: bandOf(score, r.thresholds), reasons: r.reasons,
      events_scored: state.n, updated_at: updated ? new Date(updated).toISOString() : null,
    };
  }

  /**
   * A human review cleared the agent (POST /v1/agents/:id/review, decision clear): the reviewed
   * events are accepted as normal history and the risk they raised is dropped. Events received
   * after `acceptedUntil` (the newest alert the review closed) were not reviewed and keep their
   * risk (absent: everything is accepted, as origins before it meant). Idempotent per review.
   */
  async acceptAsNormal(reviewId: string, eventIds: string[], acceptedUntil?: number, acceptedFeatures?: string[]): Promise<{ applied: boolean }> {
    const sql = this.ctx.storage.sql;
    const key = `review:${reviewId}`;
    if (sql.exec("SELECT 1 FROM meta WHERE k = ?", key).toArray().length > 0) return { applied: false };
    const now = Date.now();
    let realerted = false;
    this.rollingBack(() => this.ctx.storage.transactionSync(() => {
      const state = this.load();
      const thresholds = this.loadRisk().thresholds;
      // DEFAULT_SCORING, as in ingest: the state is learned with the defaults (a tenant's overrides
      // are thresholds and weights applied on top, tenantVerdict), so it is reset with them too.
      // What the review was shown: its alerts' features, and each numeric series as it stood at the
      // newest of them (no mark at or before it, e.g. a time that did not parse: nothing of them).
      const seenAt = acceptedUntil === undefined ? undefined : this.seriesAt(acceptedUntil);
      acceptAsNormal(state, now, DEFAULT_SCORING, { ...(acceptedFeatures && { features: acceptedFeatures }), ...(seenAt && { seenAt }) });
      // The review accepted what its alerts showed, up to the newest of them. What the agent did
      // after that no one has reviewed: its risk stays, and if it is high the origin hears of it
      // again (the clear lifted the flag those events would otherwise hide behind). The scorer's
      // lingering risk is raw, the tenant's weights and sensitivity are applied on top of it at
      // every event (tenantVerdict), so it is restored from the scorer's own scores: until
      // 2026-12-07 it took the tenant's view, which the next event weighted a second time.
      const agent = this.agent();
      const unreviewed = acceptedUntil === undefined ? undefined : this.riskSince(acceptedUntil, now);
      const own = unreviewed?.risk ?? { score: 0, reasons: [] };
      state.risk = { ...state.risk, score: own.score, reasons: own.reasons };
      const risk = isIdentity(agent?.scoring, agent?.sensitivity) ? own : applyOverrides(own, agent?.scoring, agent?.sensitivity);
      this.riskState = { score: risk.score, t: state.risk.t, reasons: risk.reasons, thresholds, at: now };
      if (agent && unreviewed && bandOf(risk.score, thresholds) === "high") {
        this.queueAlert(agent, `${agent.agentId}:${now}:${state.n}:after-review`, risk, unreviewed.high, now);
        realerted = true;
      }
      saveState(sql, JSON.stringify(state));
      sql.exec("INSERT INTO meta (k, v) VALUES ('risk_view', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", JSON.stringify(this.riskState));
      sql.exec("INSERT INTO meta (k, v) VALUES (?, ?)", key, JSON.stringify({ at: now, events: eventIds.length, ...(acceptedUntil !== undefined && { until: acceptedUntil }) }));
    }));
    if (realerted) await this.scheduleForwarding(0);
    await this.publishRiskNow();
    return { applied: true };
  }

  /**
   * The risk of the events received after `since` (the newest alert a review closed), as the scorer
   * scored them (`raw`, else the stored result, which is the same where the tenant changes nothing):
   * the strongest one, decayed to `now` like the lingering risk; and the ones the tenant saw high.
   * The scorer's own state cannot be rewound, so their individual scores stand for it; events
   * older than eight decay times (below 0.001 of their score) are not read.
   *
   * It runs inside the origin's publish delivery, before the batch's other records (every tenant's
   * revocations) are applied, so its cost must follow the events it is about, not the table: each
   * half of the table (waiting, forwarded) is read through its own received_at index (no index
   * covers both, and the plain WHERE scanned every de-duplication id, up to 10 M of them), one row
   * at a time, with score and band taken out by SQLite; only the strongest row's reasons are parsed.
   */
  private riskSince(since: number, now: number): { risk: { score: number; reasons: Reason[] }; high: string[] } {
    const sql = this.ctx.storage.sql;
    const from = Math.max(since, now - RAW_READ_MS);
    const recent = (columns: string, where = "") =>
      `SELECT ${columns} FROM events WHERE payload IS NOT NULL AND received_at > ?1 ${where}
       UNION ALL SELECT ${columns} FROM events WHERE payload IS NULL AND received_at > ?1 ${where}`;
    let best = { score: 0, rowid: -1 };
    const rows = sql.exec<{ id: number; received_at: number; score: number }>(
      `SELECT id, received_at, score FROM (${recent("rowid AS id, received_at, COALESCE(json_extract(raw, '$.score'), json_extract(result, '$.score')) AS score")}) ORDER BY received_at, id`,
      from,
    );
    for (const row of rows) {
      const score = roundScore(decayRisk(Number(row.score), now - row.received_at));
      if (score > best.score) best = { score, rowid: row.id };
    }
    const strongest = best.rowid < 0 ? undefined : sql.exec<{ result: string }>("SELECT COALESCE(raw, result) AS result FROM events WHERE rowid = ?", best.rowid).toArray()[0];
    const reasons = strongest ? (JSON.parse(strongest.result) as Pick<EventResult, "reasons">).reasons : [];
    const high = sql
      .exec<{ event_id: string }>(
        `SELECT event_id FROM (${recent("rowid AS id, event_id, received_at", "AND json_extract(result, '$.band') = 'high'")}) ORDER BY received_at, id LIMIT 1000`,
        from,
      )
      .toArray()
      .map((r) => r.event_id);
    return { risk: { score: best.score, reasons }, high };
  }

  /**
   * Each numeric series' count at the newest alert at or before `at` (alert_marks): a review of
   * that alert accepts the series' values up to it. None: an empty record, so nothing is accepted.
   */
  private seriesAt(at: number): Record<string, number> {
    const sql = this.ctx.storage.sql;
    const row = sql.exec<{ seen: string }>("SELECT seen FROM alert_marks WHERE at <= ? ORDER BY at DESC LIMIT 1", at).toArray()[0];
    if (row) return JSON.parse(row.seen) as Record<string, number>;
    // An alert raised before this monitor kept marks (an older build's, markUpgrade): the series as
    // they stood at the upgrade. Not for a time before the epoch (an unreadable one: fail closed).
    const since = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'marks_since'").toArray()[0];
    const upgrade = since ? (JSON.parse(since.v) as { at: number; seen: Record<string, number> }) : undefined;
    return upgrade && at > 0 && at < upgrade.at ? upgrade.seen : {};
  }

  /** Queues a risk alert for the origin (forwarded by the alarm, retried until acknowledged). */
  private queueAlert(
    agent: AgentContext, alertId: string, alert: { score: number; reasons: EventResult["reasons"] }, eventIds: string[], now: number, requestId?: string,
  ): void {
    const payload = {
      alert_id: alertId, agent_id: agent.agentId, tenant_id: agent.tenantId, serial_number: agent.serial,
      score: alert.score, reasons: alert.reasons, event_ids: eventIds.slice(0, 1000), triggered_at: new Date(now).toISOString(),
    };
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT INTO alerts (alert_id, payload, created_at, request_id) VALUES (?, ?, ?, ?)", alertId, JSON.stringify(payload), now, requestId ?? null);
    // Where each numeric series stood at this alert, for the review that closes it (seriesAt). The
    // newest ALERT_MARKS are kept (≤ 32 series each, ~1 KB): a review closes the newest alerts.
    const seen = Object.fromEntries(Object.entries(this.load().amounts).map(([k, v]) => [k, v.seen]));
    sql.exec("INSERT INTO alert_marks (at, seen) VALUES (?, ?) ON CONFLICT(at) DO UPDATE SET seen = excluded.seen", now, JSON.stringify(seen));
    sql.exec("DELETE FROM alert_marks WHERE at NOT IN (SELECT at FROM alert_marks ORDER BY at DESC LIMIT ?)", ALERT_MARKS);
  }

  /**
   * The origin renewed the agent's certificate (a cert record naming its successor reached this
   * edge): its current risk is published under the new serials at once, so a risky agent's
   * successor is not read as low by ?max_band= before the agent posts again. An agent that never
   * posted has no risk and gets no storage. Idempotent.
   */
  async adoptSerials(serials: string[]): Promise<void> {
    if (this.ctx.storage.sql.exec("SELECT 1 FROM meta WHERE k = 'state'").toArray().length === 0) return;
    if (this.rememberSerials(serials)) await this.publishRiskNow();
  }

  /** Outside ingest (a review, a renewal): publish at once; as after ingest, a failed KV write is retried by the alarm, never lost. */
  private async publishRiskNow(): Promise<void> {
    await this.publishRiskOrDefer(true);
    if (this.riskDirty()) await this.scheduleForwarding(5_000);
  }

  /** The serials the risk is published under, oldest first (absent before the first ingest or adoption). */
  private storedSerials(): string[] | undefined {
    const row = this.ctx.storage.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'serials'").toArray()[0];
    return row ? (JSON.parse(row.v) as string[]) : undefined;
  }

  private serials(): string[] {
    return this.storedSerials() ?? this.lastIngestSerial();
  }

  /** A monitor from before serials were kept published under the serial of its last ingest. */
  private lastIngestSerial(): string[] {
    const agent = this.agent();
    return agent ? [agent.serial] : [];
  }

  /** Adds serials (most recent last, at most RISK_SERIALS kept); true when any was new. */
  private rememberSerials(add: string[]): boolean {
    const stored = this.storedSerials();
    if (stored && add.every((s) => stored.includes(s))) return false;
    const next = [...(stored ?? this.lastIngestSerial()).filter((s) => !add.includes(s)), ...add].slice(-RISK_SERIALS);
    this.ctx.storage.sql.exec("INSERT INTO meta (k, v) VALUES ('serials', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", JSON.stringify(next));
    return true;
  }

  /** Events not yet acknowledged by the origin (for tests and /risk diagnostics). */
  pendingForwards(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE payload IS NOT NULL").toArray()[0]!.n;
  }

  /** Records given up on after bounded retries (also reported to the origin). */
  deadLetters(): DeadLetterRow[] {
    return this.letters.list();
  }

  async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    // A safety net first: if anything below throws, forwarding resumes at the latest then.
    await this.ctx.storage.setAlarm(now + MAX_BACKOFF_MS);
    // Not forced: ingest arms this alarm 250 ms after each batch, and KV takes about one write per
    // second per key. A write held back stays dirty and is due again below.
    if (this.riskDirty()) await this.publishRiskOrDefer(false);
    const outcome = await this.forwarder.run(now);
    this.ctx.storage.transactionSync(() => {
      pruneIds(sql, now, this.maxIds);
      clearOldRaw(sql, now);
    });
    this.letters.prune(now);
    // Behind (held, quarantined, dead letters, old backlog)? Tell GET /v1/admin/metrics through KV.
    const agentId = this.agent()?.agentId;
    const health = snapshot(sql, outcome === "hold", Date.now());
    this.pending = health.events_pending;
    if (agentId) await reportHealth(sql, this.env.CERT_STATUS, agentId, health);
    if (outcome === "hold") {
      const attempts = Number(sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'attempts'").toArray()[0]?.v ?? "0") + 1;
      sql.exec("INSERT INTO meta (k, v) VALUES ('attempts', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", String(attempts));
      await this.ctx.storage.setAlarm(Date.now() + Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempts - 1, 10)));
      return;
    }
    sql.exec("DELETE FROM meta WHERE k = 'attempts'");
    // Records refused once wait out their own backoff; a deferred risk write retries with backoff too.
    // Events or alerts that arrived while this run awaited the origin are due now.
    const fresh = sql.exec(
      `SELECT 1 FROM events WHERE payload IS NOT NULL AND event_id NOT IN (SELECT ref FROM forward_failures WHERE kind = 'event')
       UNION ALL SELECT 1 FROM alerts WHERE alert_id NOT IN (SELECT ref FROM forward_failures WHERE kind = 'alert') LIMIT 1`,
    ).toArray().length > 0;
    const next = [
      fresh ? Date.now() : undefined,
      this.letters.nextDue(),
      this.riskDirty() ? this.lastRiskWrite.at + RISK_WRITE_INTERVAL_MS : undefined,
      this.letters.unreported(1).length ? Date.now() + 300_000 : undefined,
    ].filter((t): t is number => t !== undefined);
    if (next.length) await this.ctx.storage.setAlarm(Math.max(Date.now(), Math.min(...next)));
    else await this.ctx.storage.deleteAlarm();
  }

  private riskDirty(): boolean {
    return this.ctx.storage.sql.exec("SELECT 1 FROM meta WHERE k = 'risk_dirty'").toArray().length > 0;
  }

  /** Arms the alarm now when none is set; an armed one (a backoff while the origin is down) is kept. */
  private async armIfIdle(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  /**
   * As scheduleForwarding, except while forwarding is held (the origin unavailable: meta
   * `attempts`, the alarm's backoff, 0.5 s doubling to 60 s): then an armed alarm is kept. Each
   * ingest armed an origin call 250 ms ahead, so an agent that kept posting had its monitor call
   * the unavailable origin (up to ~750 KB a call) after every request, and every agent posting did
   * so to the one origin they share: the backoff held only for quiet agents. The alarm publishes a
   * held-back risk write too, so during an outage a score that moved within its band reaches KV at
   * the latest with the backoff (≤ 60 s), or with the agent's next ingest after the write interval.
   */
  private async scheduleForwardingUnlessHeld(delayMs: number): Promise<void> {
    const held = this.ctx.storage.sql.exec("SELECT 1 FROM meta WHERE k = 'attempts'").toArray().length > 0;
    if (held) await this.armIfIdle();
    else await this.scheduleForwarding(delayMs);
  }

  private async scheduleForwarding(delayMs: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    const at = Date.now() + delayMs;
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * The agent's risk for /v1/verify, in KV under each of its serials (so verify reads it in
   * parallel with the status record): on a band change at once, otherwise at most every 5 s.
   */
  private async publishRiskOrDefer(force: boolean): Promise<void> {
    const sql = this.ctx.storage.sql;
    const serials = this.serials();
    if (serials.length === 0) return;
    try {
      if (await this.publishRisk(serials, force)) sql.exec("DELETE FROM meta WHERE k = 'risk_dirty'");
      else {
        // Held back by the write interval: the alarm writes it when the interval is over, or a
        // score that moved within its band stays unpublished for as long as the agent is quiet.
        sql.exec("INSERT INTO meta (k, v) VALUES ('risk_dirty', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", serials.join(","));
        await this.scheduleForwardingUnlessHeld(Math.max(0, this.lastRiskWrite.at + RISK_WRITE_INTERVAL_MS - Date.now()));
      }
    } catch (e) {
      // The events are committed and their forwarding is armed: a failed KV write must not fail
      // the 202. The alarm retries it.
      sql.exec("INSERT INTO meta (k, v) VALUES ('risk_dirty', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", serials.join(","));
      console.warn(JSON.stringify({ level: "warn", msg: "risk write deferred", component: "agent-monitor", serials, error: e instanceof Error ? e.message : String(e) }));
    }
  }

  /** False when the write interval held it back (nothing written). */
  private async publishRisk(serials: string[], force: boolean): Promise<boolean> {
    const r = this.loadRisk();
    const band = bandOf(r.score, r.thresholds);
    const now = Date.now();
    if (!force && band === this.lastRiskWrite.band && now - this.lastRiskWrite.at < RISK_WRITE_INTERVAL_MS) return false;
    this.lastRiskWrite = { at: now, band };
    // The thresholds travel with the score so verify (and ?max_band=) bands it as the tenant does.
    const value = JSON.stringify({ score: r.score, band, t: r.t, thresholds: r.thresholds });
    await Promise.all(serials.map((s) => this.env.CERT_STATUS.put(`risk:${s}`, value)));
    return true;
  }
}
