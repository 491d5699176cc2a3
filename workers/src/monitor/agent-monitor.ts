import { DurableObject } from "cloudflare:workers";
import {
  bandOf, DEFAULT_SCORING, newState, reviveState, scoreEvent, toScoredInput, type AgentEvent, type MonitorState,
} from "@kakunin/shared";
import { postToOrigin } from "./forward.ts";
import type { AgentContext, EventResult, IngestOutcome, RiskView } from "./types.ts";

const EVENTS_PATH = "/internal/v1/events";
const ALERTS_PATH = "/internal/v1/risk-alerts";
/** Event ids are remembered this long for de-duplication (events older than 30 days are refused). */
const DEDUPE_MS = 31 * 86_400_000;
const FORWARD_BATCH = 500;
const FORWARD_MAX_BYTES = 768 * 1024;
const MAX_BACKOFF_MS = 60_000;
/** KV allows about one write per second per key; risk is written on a band change or at most every 5 s. */
const RISK_WRITE_INTERVAL_MS = 5_000;

/**
 * One per agent. Scores each event in time order with the deterministic scorer, remembers event ids
 * (a duplicate is acknowledged, never scored or counted twice), keeps the scorer's bounded state in
 * SQLite, and forwards every accepted event with its score to the origin from an alarm, retrying
 * with backoff until acknowledged. When the agent's risk reaches high it queues a risk alert the
 * same way. Everything is written in one storage transaction before the 202 is returned.
 */
export class AgentMonitor extends DurableObject<Env> {
  private state?: MonitorState;
  private lastRiskWrite = { at: 0, band: "low" as string };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, result TEXT NOT NULL, payload TEXT);
      CREATE INDEX IF NOT EXISTS events_pending ON events (received_at) WHERE payload IS NOT NULL;
      CREATE TABLE IF NOT EXISTS alerts (alert_id TEXT PRIMARY KEY, payload TEXT NOT NULL, created_at INTEGER NOT NULL);
    `);
  }

  private load(): MonitorState {
    if (!this.state) {
      const row = this.ctx.storage.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'state'").toArray()[0];
      this.state = row ? reviveState(JSON.parse(row.v)) : newState();
    }
    return this.state;
  }

  async ingest(agent: AgentContext, events: AgentEvent[]): Promise<IngestOutcome> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const results = new Map<number, EventResult>();
    // Score in event-time order (stable for equal timestamps); answer in request order.
    const order = events.map((e, i) => ({ e, i, ts: Date.parse(e.timestamp) })).sort((a, b) => a.ts - b.ts || a.i - b.i);
    const seenInBatch = new Set<string>();
    let accepted = 0;
    let duplicates = 0;
    const highEvents: string[] = [];
    let alert: { score: number; reasons: EventResult["reasons"] } | undefined;
    const outcome = this.ctx.storage.transactionSync(() => {
      const state = this.load();
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
        const { event, risk } = scoreEvent(state, toScoredInput(e), agent.scopes, DEFAULT_SCORING);
        const result: EventResult = { event_id: e.event_id, score: event.score, band: event.band, reasons: event.reasons };
        results.set(i, result);
        accepted++;
        if (event.band === "high") highEvents.push(e.event_id);
        if (risk.becameHigh) alert = { score: risk.score, reasons: risk.reasons };
        const forwarded = {
          agent_id: agent.agentId, tenant_id: agent.tenantId, serial_number: agent.serial, event: e,
          score: event.score, band: event.band, reasons: event.reasons, received_at: new Date(now).toISOString(),
        };
        sql.exec("INSERT INTO events (event_id, received_at, result, payload) VALUES (?, ?, ?, ?)", e.event_id, now, JSON.stringify(result), JSON.stringify(forwarded));
      }
      if (alert) {
        const alertId = `${agent.agentId}:${now}:${state.n}`;
        const payload = {
          alert_id: alertId, agent_id: agent.agentId, tenant_id: agent.tenantId, serial_number: agent.serial,
          score: alert.score, reasons: alert.reasons, event_ids: highEvents.slice(0, 1000), triggered_at: new Date(now).toISOString(),
        };
        sql.exec("INSERT INTO alerts (alert_id, payload, created_at) VALUES (?, ?, ?)", alertId, JSON.stringify(payload), now);
      }
      sql.exec("INSERT INTO meta (k, v) VALUES ('state', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", JSON.stringify(state));
      sql.exec("INSERT INTO meta (k, v) VALUES ('agent', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", JSON.stringify(agent));
      return { accepted, duplicates, results: events.map((_, i) => results.get(i)!) };
    });
    if (outcome.accepted > 0) {
      await this.publishRisk(agent.serial, alert !== undefined);
      await this.scheduleForwarding(alert ? 0 : 250);
    }
    return outcome;
  }

  risk(agentId: string): RiskView {
    const state = this.load();
    const decayed = state.risk.score * Math.exp(-Math.max(0, Date.now() - state.risk.t) / DEFAULT_SCORING.riskDecayMs);
    const score = Math.round(decayed * 1000) / 1000;
    return {
      agent_id: agentId, score, band: bandOf(score), reasons: state.risk.reasons,
      events_scored: state.n, updated_at: state.risk.t ? new Date(state.risk.t).toISOString() : null,
    };
  }

  /** Events not yet acknowledged by the origin (for tests and /risk diagnostics). */
  pendingForwards(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE payload IS NOT NULL").toArray()[0]!.n;
  }

  /** Sends queued risk alerts; false when one could not be delivered (retry later). */
  private async sendAlerts(): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    let delivered = true;
    for (const a of sql.exec<{ alert_id: string; payload: string }>("SELECT alert_id, payload FROM alerts ORDER BY created_at").toArray()) {
      const r = await postToOrigin(this.env, ALERTS_PATH, JSON.parse(a.payload));
      // 4xx other than auth means the origin will never accept it (e.g. agent deleted): drop, don't loop.
      if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 401)) sql.exec("DELETE FROM alerts WHERE alert_id = ?", a.alert_id);
      else delivered = false;
    }
    return delivered;
  }

  async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    let failed = false;
    for (;;) {
      // Alerts first, and again before every batch: an alert raised while a long backlog of events
      // is being forwarded must not wait for the backlog (it decides a revocation).
      if (!(await this.sendAlerts())) failed = true;
      const rows = sql.exec<{ event_id: string; payload: string }>(
        "SELECT event_id, payload FROM events WHERE payload IS NOT NULL ORDER BY received_at LIMIT ?", FORWARD_BATCH,
      ).toArray();
      if (rows.length === 0) break;
      const batch: unknown[] = [];
      const ids: string[] = [];
      let bytes = 0;
      for (const r of rows) {
        if (batch.length > 0 && bytes + r.payload.length > FORWARD_MAX_BYTES) break;
        batch.push(JSON.parse(r.payload));
        ids.push(r.event_id);
        bytes += r.payload.length;
      }
      const res = await postToOrigin(this.env, EVENTS_PATH, { events: batch });
      if (!res.ok) {
        failed = true;
        break;
      }
      // Acknowledged: keep the id and result for de-duplication, drop the payload.
      for (const id of ids) sql.exec("UPDATE events SET payload = NULL WHERE event_id = ?", id);
    }
    sql.exec("DELETE FROM events WHERE payload IS NULL AND received_at < ?", Date.now() - DEDUPE_MS);
    if (failed) {
      const attempts = Number(sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'attempts'").toArray()[0]?.v ?? "0") + 1;
      sql.exec("INSERT INTO meta (k, v) VALUES ('attempts', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", String(attempts));
      await this.ctx.storage.setAlarm(Date.now() + Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempts - 1, 10)));
    } else {
      sql.exec("DELETE FROM meta WHERE k = 'attempts'");
      // Re-check later for the dedupe window even when idle.
      const pending = this.pendingForwards();
      if (pending > 0) await this.ctx.storage.setAlarm(Date.now());
    }
  }

  private async scheduleForwarding(delayMs: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    const at = Date.now() + delayMs;
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * The agent's risk for /v1/verify, in KV under the certificate's serial (so verify reads it in
   * parallel with the status record): on a band change at once, otherwise at most every 5 s.
   */
  private async publishRisk(serial: string, force: boolean): Promise<void> {
    const state = this.load();
    const band = bandOf(state.risk.score);
    const now = Date.now();
    if (!force && band === this.lastRiskWrite.band && now - this.lastRiskWrite.at < RISK_WRITE_INTERVAL_MS) return;
    this.lastRiskWrite = { at: now, band };
    await this.env.CERT_STATUS.put(`risk:${serial}`, JSON.stringify({ score: state.risk.score, band, t: state.risk.t }));
  }
}
