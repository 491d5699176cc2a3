import { randomUUID } from "node:crypto";
import { inArray, sql } from "drizzle-orm";
import { originBehind, recordKey, type EdgeRecord, type OriginEpoch, type PublishAck } from "@kakunin/shared";
import { rowsOfResult } from "../db/index.ts";
import { outbox } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { EdgeClient } from "./edge-client.ts";
import { agentRecord, certRecord, crlRecords } from "./records.ts";
import type { PublishSigners } from "./signers.ts";
import { RetryLoop } from "../retry-loop.ts";
import { beginNextEpoch, currentEpoch } from "./epoch.ts";
import { sequenceHighWater, type OutboxKind } from "./outbox.ts";

export interface PublisherOptions {
  batchSize?: number;
  /** Poll interval when idle: picks up rows another origin wrote, or ones left by a crash. */
  pollMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Who holds publish leases on outbox rows. Stable across restarts of one origin (main.ts uses
   * host, data dir and port), so an origin killed mid-publish takes its rows back at once.
   */
  instanceId?: string;
  /** How long a claimed row is reserved for this origin: longer than one signed edge call. */
  leaseMs?: number;
  log?: (msg: string) => void;
}

export type DrainResult = { delivered: number; pending: boolean } | { error: string };

/**
 * Delivers the outbox to the edge: oldest first, the current state of each subject once per
 * batch, rows marked delivered only after the edge acknowledged them. Failures back off
 * exponentially (with jitter) up to maxBackoffMs and retry forever: nothing is dropped.
 */
export class Publisher {
  private readonly opts: Required<PublisherOptions>;
  private readonly loop: RetryLoop;
  /** Revocations the edge answered as stale while holding versions this database never drew. */
  staleAlerts = 0;

  constructor(
    private readonly s: Services,
    private readonly edge: EdgeClient,
    private readonly signers: PublishSigners,
    opts: PublisherOptions = {},
  ) {
    this.opts = {
      batchSize: opts.batchSize ?? 200,
      pollMs: opts.pollMs ?? 1000,
      minBackoffMs: opts.minBackoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 30_000,
      instanceId: opts.instanceId ?? randomUUID(),
      leaseMs: opts.leaseMs ?? 30_000,
      log: opts.log ?? ((m) => console.warn(`[origin] publisher: ${m}`)),
    };
    this.loop = new RetryLoop(async () => {
      const r = await this.drainOnce();
      if ("error" in r) return { outcome: "failed", error: r.error };
      return { outcome: r.pending ? "more" : "idle" };
    }, { idleMs: this.opts.pollMs, minBackoffMs: this.opts.minBackoffMs, maxBackoffMs: this.opts.maxBackoffMs, name: "edge", log: this.opts.log });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** A change was committed: publish now, unless the edge is failing and we are backing off. */
  kick(): void {
    this.loop.kick();
  }

  /** One batch. Exposed for tests; the loop calls it. */
  async drainOnce(): Promise<DrainResult> {
    const rows = await this.claim();
    if (rows.length === 0) return { delivered: 0, pending: false };
    const epoch = await currentEpoch(this.s.db);
    // Several rows for one subject collapse into its current state, versioned by the newest row.
    const latest = new Map<string, { kind: OutboxKind; subject: string; v: number }>();
    for (const r of rows) latest.set(`${r.kind}:${r.subject}`, { kind: r.kind, subject: r.subject, v: r.seq });
    const records: EdgeRecord[] = [];
    for (const item of [...latest.values()].sort((a, b) => a.v - b.v)) {
      if (item.kind === "cert") {
        const rec = await certRecord(this.s, this.signers, item.subject, item.v);
        if (rec) records.push(rec);
      } else if (item.kind === "agent") {
        const rec = await agentRecord(this.s, item.subject, item.v);
        if (rec) records.push(rec);
      } else {
        records.push(...(await crlRecords(this.s, this.signers, item.subject, item.v)));
      }
    }
    const seqs = rows.map((r) => r.seq);
    const ack = records.length > 0 ? await this.edge.publish({ records, epoch }) : { ok: true as const, value: { applied: 0, stale: 0 } };
    if (!ack.ok) {
      await this.release(seqs);
      return { error: ack.error };
    }
    if (await this.edgeAhead(ack.value, epoch, records)) {
      await this.release(seqs);
      return { delivered: 0, pending: true };
    }
    await this.s.db.update(outbox).set({ deliveredAt: this.s.clock.now(), claimedUntil: null }).where(inArray(outbox.seq, seqs));
    return { delivered: rows.length, pending: rows.length === this.opts.batchSize };
  }

  /**
   * Claims the oldest undelivered rows no other origin holds (SKIP LOCKED, then a lease), so
   * several origins on one database publish disjoint rows; a crashed holder's lease runs out.
   */
  private async claim(): Promise<{ seq: number; kind: OutboxKind; subject: string }[]> {
    const now = this.s.clock.now();
    const until = new Date(now.getTime() + this.opts.leaseMs);
    const result = await this.s.db.execute(sql`
      update outbox set claimed_by = ${this.opts.instanceId}, claimed_until = ${until}
      where seq in (
        select seq from outbox
        where delivered_at is null and (claimed_until is null or claimed_until < ${now} or claimed_by = ${this.opts.instanceId})
        order by seq limit ${this.opts.batchSize}
        for update skip locked)
      returning seq, kind, subject`);
    return rowsOfResult<{ seq: string | number; kind: OutboxKind; subject: string }>(result)
      .map((r) => ({ seq: Number(r.seq), kind: r.kind, subject: r.subject }))
      .sort((a, b) => a.seq - b.seq);
  }

  private async release(seqs: number[]): Promise<void> {
    await this.s.db.update(outbox).set({ attempts: sql`${outbox.attempts} + 1`, claimedUntil: null }).where(inArray(outbox.seq, seqs));
  }

  /**
   * True when the edge holds versions this database never drew (restored from an earlier dump) or
   * an epoch it did not start (a new database): the batch is not delivered, stale revocations are
   * raised as an alert, and a new epoch begins, re-publishing every subject above what the edge
   * holds. A stale answer within our own lineage is harmless (the edge holds a newer version of
   * the subject, and versions are drawn under the subject's lock, so it includes this change).
   */
  private async edgeAhead(ack: PublishAck, epoch: OriginEpoch, records: EdgeRecord[]): Promise<boolean> {
    if (!ack.head) return false; // an edge older than epochs: versions are all it compares
    const highWater = await sequenceHighWater(this.s.db);
    if (!originBehind(ack.head, epoch, highWater)) return false;
    const next = await beginNextEpoch(this.s.db, epoch, ack.head.epoch.n, `edge held epoch ${ack.head.epoch.n} up to version ${ack.head.max_v}; database at epoch ${epoch.n}, sequence ${highWater}`, this.s.clock.now());
    if (!next.started) {
      // Another origin on this database detected it first and started the epoch: just resend.
      this.opts.log(`epoch ${next.epoch.n} was started by another origin; resending under it`);
      return true;
    }
    const stale = new Set(ack.stale_keys ?? []);
    const revocations = records.filter((r) => stale.has(recordKey(r)) && isRevocation(r)).map(recordKey);
    this.staleAlerts += revocations.length;
    this.opts.log(
      `ALERT: the edge answered ${ack.stale} record(s) as stale${revocations.length ? `, ${revocations.length} of them revocation(s) (${revocations.slice(0, 5).join(", ")})` : ""}: ` +
      `it holds epoch ${ack.head.epoch.n} up to version ${ack.head.max_v}, this database is at epoch ${epoch.n} with sequence ${highWater} ` +
      `(restored from an earlier dump, or a new database). Nothing was marked delivered; epoch ${next.epoch.n} started and every subject is being re-published.`,
    );
    return true;
  }
}

/** A record that takes trust away: the edge must never keep an older, more permissive one. */
function isRevocation(r: EdgeRecord): boolean {
  return (r.kind === "cert" && r.status === "revoked") || (r.kind === "agent" && r.status !== "active");
}
