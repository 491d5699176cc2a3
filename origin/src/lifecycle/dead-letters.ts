import { and, eq, sql } from "drizzle-orm";
import { processLogger } from "../observability/logger.ts";
import { err, forwardedEventSchema, ok, riskAlertSchema, type DeadLetterReport, type Result } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { deadLetters } from "../db/schema.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { decideRisk } from "../internal/decide-risk.ts";
import { storeEvents } from "../internal/store-events.ts";
import { enqueue, type OutboxKind } from "../publish/outbox.ts";
import type { Services } from "../services.ts";

export type DeadLetterRow = typeof deadLetters.$inferSelect;

export interface NewDeadLetter {
  key: string;
  source: "edge" | "origin";
  kind: "event" | "alert" | "publish";
  tenantId: string | null;
  agentId: string | null;
  ref: string;
  status: number;
  error: string;
  attempts: number;
  payload: string;
  firstFailedAt: Date;
}

/**
 * Stores (or refreshes) a dead letter and logs one structured line for it. Idempotent per `key`:
 * the edge re-sends a report it got no answer for, and a replayed record that fails again
 * updates its row rather than adding one.
 */
export async function buryDeadLetter(db: Queryable, l: NewDeadLetter, now: Date): Promise<void> {
  const row = { ...l, error: l.error.slice(0, 2000), deadAt: now };
  await db.insert(deadLetters).values(row).onConflictDoUpdate({
    target: deadLetters.key,
    set: { status: row.status, error: row.error, attempts: row.attempts, payload: row.payload, deadAt: now, replayedAt: null, replayResult: null },
  });
  processLogger("dead_letters").warn("dead-lettered", { event: "dead_lettered", key: l.key, kind: l.kind, source: l.source, tenant_id: l.tenantId, status: l.status, error: row.error.slice(0, 300) });
}

/** The edge's report of what it gave up on. */
export async function recordEdgeDeadLetters(s: Services, report: DeadLetterReport): Promise<number> {
  const now = s.clock.now();
  for (const l of report.letters) {
    await buryDeadLetter(s.db, {
      key: l.key, source: "edge", kind: l.kind, tenantId: l.tenant_id, agentId: l.agent_id, ref: l.ref, status: l.status,
      error: l.error, attempts: l.attempts, payload: l.payload_json, firstFailedAt: new Date(l.first_failed_at),
    }, now);
  }
  return report.letters.length;
}

export type ReplayFailure = { code: "not-found" } | { code: "still-failing"; detail: string };

/**
 * Tries a dead letter again, through the same path it failed on: an event is validated and stored
 * (once per event_id, audited), an alert is decided, a status record is queued for the publisher.
 * On success the row is marked replayed (kept for the record); on failure it stays dead and the
 * caller gets the reason.
 */
export async function replayDeadLetter(s: Services, tenantId: string, id: string, actor: AuditActor): Promise<Result<DeadLetterRow, ReplayFailure>> {
  const [row] = await s.db.select().from(deadLetters).where(and(eq(deadLetters.id, id), eq(deadLetters.tenantId, tenantId)));
  if (!row) return err({ code: "not-found" });
  const outcome = await retry(s, row);
  const now = s.clock.now();
  if (!outcome.ok) {
    await s.db.update(deadLetters).set({ attempts: sql`${deadLetters.attempts} + 1`, error: outcome.error.slice(0, 2000) }).where(eq(deadLetters.id, id));
    return err({ code: "still-failing", detail: outcome.error });
  }
  // What the replay did is audited under the actors that would have done it on time (the edge's
  // event, the risk policy's decision); this entry, committed with the letter's "replayed" mark,
  // says which admin made it happen now. Until 2026-12-07 nothing did: a replayed alert's
  // revocation read as the policy's alone.
  const done = await s.db.transaction(async (tx) => {
    const [marked] = await tx.update(deadLetters).set({ replayedAt: now, replayResult: outcome.value }).where(eq(deadLetters.id, id)).returning();
    await appendAudit(tx, tenantId, [{
      kind: "dead_letter.replayed", actor, at: now,
      data: { dead_letter_id: row.id, kind: row.kind, source: row.source, ref: row.ref, agent_id: row.agentId, result: outcome.value },
    }]);
    return marked!;
  });
  return ok(done);
}

async function retry(s: Services, row: DeadLetterRow): Promise<Result<string, string>> {
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    return err("the stored payload is not JSON");
  }
  if (row.kind === "event") {
    const parsed = forwardedEventSchema.safeParse(payload);
    if (!parsed.success) return err(`still invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ").slice(0, 500)}`);
    const r = await storeEvents(s, { events: [parsed.data] });
    if (r.dead_lettered > 0 || r.rejected > 0) return err(r.dead_lettered > 0 ? "the origin still cannot store it" : "the agent is not in this tenant");
    return ok(r.stored ? "stored" : "duplicate");
  }
  if (row.kind === "alert") {
    const parsed = riskAlertSchema.safeParse(payload);
    if (!parsed.success) return err(`still invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ").slice(0, 500)}`);
    const d = await decideRisk(s, parsed.data);
    if (!d) return err("the agent no longer exists");
    return ok(`decided: ${d.decision}`);
  }
  const item = payload as { kind?: OutboxKind; subject?: string };
  if (!item.kind || !item.subject) return err("the stored payload names no outbox subject");
  await enqueue(s.db, [{ kind: item.kind, subject: item.subject }]);
  s.publisher?.kick();
  return ok("queued for publishing");
}
