import {
  DEAD_LETTERS_PATH, EVENTS_MAX_BYTES, EVENTS_PATH, RISK_ALERTS_PATH, utf8Length, WIRE_VERSION, type DeadLetterReport,
} from "@kakunin/shared";
import { MAX_ATTEMPTS, type DeadLetterStore } from "./dead-letters.ts";
import { classify, postTextToOrigin, type OriginAnswer } from "./forward.ts";

const FORWARD_BATCH = 500;
/** UTF-8 bytes of one forwarded body, with headroom under the origin's 1 MiB request limit. */
export const FORWARD_MAX_BYTES = Math.floor(EVENTS_MAX_BYTES * 0.75);
const BODY_PREFIX = `{"wire_version":${WIRE_VERSION},"events":[`;
const WRAPPER_BYTES = utf8Length(`${BODY_PREFIX}]}`);
/** Quarantined records retried (alone) per run: a flood of refusals cannot starve the rest. */
const RETRIES_PER_RUN = 25;

interface Row {
  event_id: string;
  payload: string;
  bytes: number;
  /** The x-request-id of the ingest that accepted it; null for rows stored before it was kept. */
  request_id: string | null;
}

/** How a run ended: `hold` means the origin is unavailable (back off); `done` means keep going normally. */
export type RunOutcome = "done" | "hold";

/**
 * One forwarding run of an AgentMonitor. Alerts first (they decide revocations). Then records that
 * were refused before are retried alone when due; then everything else in batches bounded by
 * count and UTF-8 bytes. A refused batch is bisected until the refused record stands alone: the
 * rest is delivered at once, the record is retried with its own backoff and, after MAX_ATTEMPTS,
 * dead-lettered. So one record can never hold back the others.
 */
export class Forwarder {
  constructor(
    private readonly env: Env,
    private readonly sql: SqlStorage,
    private readonly letters: DeadLetterStore,
    private readonly agent: () => { agentId: string; tenantId: string } | undefined,
  ) {}

  async run(now: number): Promise<RunOutcome> {
    if ((await this.sendAlerts(now)) === "hold") return "hold";
    for (const id of this.letters.due("event", now, RETRIES_PER_RUN)) {
      const row = this.sql
        .exec<{ event_id: string; payload: string; request_id: string | null }>("SELECT event_id, payload, request_id FROM events WHERE event_id = ? AND payload IS NOT NULL", id)
        .toArray()[0];
      if (!row) {
        this.letters.clear("event", id);
        continue;
      }
      if ((await this.deliver([{ ...row, bytes: utf8Length(row.payload) }], now)) === "hold") return "hold";
    }
    const skip = this.letters.quarantined("event");
    for (;;) {
      if ((await this.sendAlerts(now)) === "hold") return "hold";
      const batch = this.nextBatch(skip);
      if (batch.length === 0) break;
      if ((await this.deliver(batch, now)) === "hold") return "hold";
      for (const r of batch) skip.add(r.event_id); // refused ones stay pending but quarantined
    }
    await this.reportDeadLetters();
    return "done";
  }

  /** The oldest pending events not in quarantine, at most FORWARD_BATCH and FORWARD_MAX_BYTES of UTF-8. */
  private nextBatch(skip: Set<string>): Row[] {
    const batch: Row[] = [];
    let bytes = WRAPPER_BYTES;
    const cursor = this.sql.exec<{ event_id: string; payload: string; request_id: string | null }>(
      "SELECT event_id, payload, request_id FROM events WHERE payload IS NOT NULL ORDER BY received_at",
    );
    for (const r of cursor) {
      if (skip.has(r.event_id)) continue;
      const size = utf8Length(r.payload);
      if (batch.length > 0 && (batch.length >= FORWARD_BATCH || bytes + size + 1 > FORWARD_MAX_BYTES)) break;
      batch.push({ ...r, bytes: size });
      bytes += size + 1;
    }
    return batch;
  }

  /**
   * Sends a batch; on refusal splits it in halves until the refused record is alone. It goes under
   * its oldest event's ingest request id: one ingest's events (up to 1000) share a forward unless
   * several ingests queued within the alarm's delay were merged, when the later ones' ids are not
   * on the call; a split or retried record goes under its own.
   */
  private async deliver(rows: Row[], now: number): Promise<RunOutcome> {
    const answer = await postTextToOrigin(this.env, EVENTS_PATH, `${BODY_PREFIX}${rows.map((r) => r.payload).join(",")}]}`, idOf(rows[0]?.request_id));
    const verdict = classify(answer);
    if (verdict === "ok") {
      // Acknowledged: keep the id and result for de-duplication, drop the payload.
      for (const r of rows) {
        this.sql.exec("UPDATE events SET payload = NULL WHERE event_id = ?", r.event_id);
        this.letters.clear("event", r.event_id);
      }
      return "done";
    }
    if (verdict === "hold") return "hold";
    if (rows.length === 1) {
      this.refused("event", rows[0]!.event_id, rows[0]!.payload, answer, now);
      return "done";
    }
    const mid = Math.ceil(rows.length / 2);
    if ((await this.deliver(rows.slice(0, mid), now)) === "hold") return "hold";
    return this.deliver(rows.slice(mid), now);
  }

  private refused(kind: "event" | "alert", ref: string, payload: string, a: OriginAnswer, now: number): void {
    if (!this.letters.recordRefusal(kind, ref, a.status, a.body, now)) return;
    this.letters.bury(kind, ref, payload, a.status, a.body, now);
    if (kind === "event") this.sql.exec("UPDATE events SET payload = NULL WHERE event_id = ?", ref);
    else this.sql.exec("DELETE FROM alerts WHERE alert_id = ?", ref);
  }

  /**
   * Queued risk alerts, oldest first. Dropped only on 404 (the agent is gone at the origin, which
   * audits the drop) and then kept as a dead letter; 408/429/5xx and an unreachable origin retry;
   * any other refusal is retried alone with backoff and dead-lettered, never silently lost.
   */
  private async sendAlerts(now: number): Promise<RunOutcome> {
    const waiting = this.letters.quarantined("alert");
    const due = new Set(this.letters.due("alert", now, RETRIES_PER_RUN));
    const alerts = this.sql.exec<{ alert_id: string; payload: string; request_id: string | null }>("SELECT alert_id, payload, request_id FROM alerts ORDER BY created_at").toArray();
    for (const a of alerts) {
      if (waiting.has(a.alert_id) && !due.has(a.alert_id)) continue;
      const body = JSON.stringify({ wire_version: WIRE_VERSION, ...(JSON.parse(a.payload) as object) });
      const answer = await postTextToOrigin(this.env, RISK_ALERTS_PATH, body, idOf(a.request_id));
      const verdict = classify(answer);
      if (verdict === "ok") {
        this.sql.exec("DELETE FROM alerts WHERE alert_id = ?", a.alert_id);
        this.letters.clear("alert", a.alert_id);
      } else if (verdict === "hold") {
        return "hold";
      } else if (verdict === "gone") {
        this.letters.bury("alert", a.alert_id, a.payload, answer.status, answer.body, now);
        this.sql.exec("DELETE FROM alerts WHERE alert_id = ?", a.alert_id);
      } else {
        this.refused("alert", a.alert_id, a.payload, answer, now);
      }
    }
    return "done";
  }

  /** Surfaces new dead letters to the origin, where operators list and replay them. Best effort: retried next run. */
  private async reportDeadLetters(): Promise<void> {
    const who = this.agent();
    if (!who) return;
    const rows = this.letters.unreported(20);
    if (rows.length === 0) return;
    const report: DeadLetterReport = {
      wire_version: WIRE_VERSION,
      letters: rows.map((r) => ({
        key: r.key, kind: r.kind, tenant_id: who.tenantId, agent_id: who.agentId, ref: r.ref, status: r.status,
        error: r.error.slice(0, 2000), attempts: Math.min(r.attempts, MAX_ATTEMPTS), payload_json: r.payload,
        first_failed_at: new Date(r.first_failed_at).toISOString(),
      })),
    };
    // Letters of many requests, sent by no request: an id of its own, so the origin's line has one.
    const answer = await postTextToOrigin(this.env, DEAD_LETTERS_PATH, JSON.stringify(report), crypto.randomUUID());
    if (answer.ok) this.letters.markReported(rows.map((r) => r.key));
  }
}

/** The stored ingest id, or a fresh one for rows kept before ids were (the origin logs a line either way). */
function idOf(requestId: string | null | undefined): string {
  return requestId ?? crypto.randomUUID();
}
