import { randomUUID } from "node:crypto";
import { inArray, sql } from "drizzle-orm";
import {
  isWireVersionRefusal, originBehind, publishWireVersion, recordKey, type EdgeRecord, type OriginEpoch, type PublishAck,
} from "@kakunin/shared";
import { rowsOfResult } from "../db/index.ts";
import { buryDeadLetter } from "../lifecycle/dead-letters.ts";
import { outbox } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { describePublishError, isUnreachable, type EdgeClient, type EdgeRefusal } from "./edge-client.ts";
import { agentRecord, certRecord, crlRecords, feedbackRecord, scoringRecord } from "./records.ts";
import type { PublishSigners } from "./signers.ts";
import { RetryLoop } from "../retry-loop.ts";
import type { LogFn } from "../observability/logger.ts";
import { beginNextEpoch, currentEpoch } from "./epoch.ts";
import { sequenceHighWater, type OutboxKind } from "./outbox.ts";
import { SigningGuard } from "./signing-guard.ts";
import { packBatches, type Unit } from "./pack.ts";
import { appliedDespite, monitorUnavailableAgents } from "./monitor-unavailable.ts";

export interface PublisherOptions {
  batchSize?: number;
  /** Poll interval when idle: picks up rows another origin wrote, or ones left by a crash. */
  pollMs?: number;
  /** While the edge is unreachable, how often its `/healthz` is asked, to publish as soon as it answers. */
  probeMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Who holds publish leases on outbox rows. Stable across restarts of one origin (main.ts uses
   * host, data dir and port), so an origin killed mid-publish takes its rows back at once.
   */
  instanceId?: string;
  /** How long a claimed row is reserved for this origin: longer than one signed edge call. */
  leaseMs?: number;
  log?: LogFn;
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
  /** The signers behind a guard: a failing or hung key manager never stops status records. */
  readonly signers: SigningGuard;
  /**
   * The last publish found the edge unreachable. The loop backs off up to maxBackoffMs (each pass
   * claims rows and signs OCSP responses, so it must not retry fast), and a revocation made while
   * the edge was away reached it up to that long after it was back: a cheap probe wakes the loop.
   */
  private unreachable = false;
  /** Woken since the last delivery: once only, so an edge whose /healthz answers while publishes time out keeps the backoff. */
  private woken = false;
  private probe?: ReturnType<typeof setInterval>;

  constructor(
    private readonly s: Services,
    private readonly edge: EdgeClient,
    signers: PublishSigners,
    opts: PublisherOptions = {},
  ) {
    this.opts = {
      batchSize: opts.batchSize ?? 200,
      pollMs: opts.pollMs ?? 1000,
      probeMs: opts.probeMs ?? 1000,
      minBackoffMs: opts.minBackoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 30_000,
      instanceId: opts.instanceId ?? randomUUID(),
      leaseMs: opts.leaseMs ?? 30_000,
      log: opts.log ?? ((m, f) => s.logger.warn(m, { component: "publisher", ...f })),
    };
    this.signers = new SigningGuard(s, signers, () => this.kick(), { log: this.opts.log });
    this.loop = new RetryLoop(async () => {
      const r = await this.drainOnce();
      if ("error" in r) return { outcome: "failed", error: r.error };
      return { outcome: r.pending ? "more" : "idle" };
    }, { idleMs: this.opts.pollMs, minBackoffMs: this.opts.minBackoffMs, maxBackoffMs: this.opts.maxBackoffMs, name: "edge", log: this.opts.log, health: s.background.loop("publish") });
  }

  start(): void {
    this.loop.start();
    this.signers.start();
    if (this.edge.reachable) {
      let probing = false;
      this.probe = setInterval(() => {
        if (!this.unreachable || this.woken || probing) return;
        probing = true;
        void this.edge.reachable!().then((up) => {
          if (up && this.unreachable && !this.woken) {
            this.woken = true;
            // The edge answers again: callers waiting for a delivery (awaitPublished) may wait once
            // more, even when nothing is pending to publish (which is what would clear it otherwise).
            this.unreachable = false;
            this.loop.wake();
          }
        }).finally(() => { probing = false; });
      }, this.opts.probeMs);
      this.probe.unref?.();
    }
  }

  async stop(): Promise<void> {
    if (this.probe) clearInterval(this.probe);
    await this.signers.stop();
    await this.loop.stop();
  }

  /** The last publish could not reach the edge: callers waiting for a delivery (awaitPublished) need not. */
  get edgeUnreachable(): boolean {
    return this.unreachable;
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
    const latest = new Map<string, Item>();
    for (const r of rows) {
      const key = `${r.kind}:${r.subject}`;
      latest.set(key, { kind: r.kind, subject: r.subject, v: r.seq, seqs: [...(latest.get(key)?.seqs ?? []), r.seq], records: [] });
    }
    const items = [...latest.values()].sort((a, b) => a.v - b.v);
    for (const item of items) {
      if (item.kind === "cert") {
        const rec = await certRecord(this.s, this.signers, item.subject, item.v);
        if (rec) item.records.push(rec);
      } else if (item.kind === "agent") {
        const rec = await agentRecord(this.s, item.subject, item.v);
        if (rec) item.records.push(rec);
      } else if (item.kind === "scoring") {
        const rec = await scoringRecord(this.s, item.subject, item.v);
        if (rec) item.records.push(rec);
      } else if (item.kind === "feedback") {
        const rec = await feedbackRecord(this.s, item.subject, item.v);
        if (rec) item.records.push(rec);
      } else {
        item.records.push(...(await crlRecords(this.s, this.signers, item.subject, item.v)));
      }
    }
    const outcome = await this.publishItems(items, epoch);
    if (outcome !== "delivered" && outcome !== "resend" && "held" in outcome) {
      // The edge took everything but some agents' records (their monitors failed): those rows wait
      // for a backoff of their own, and the next pass goes on at once with the rest of the outbox.
      const seqs = outcome.held.flatMap((i) => i.seqs);
      await this.defer(seqs);
      this.opts.log(`${outcome.hold}: ${seqs.length} outbox row(s) of those agents wait for their own retry; the rest was delivered`);
      return { delivered: rows.length - seqs.length, pending: true };
    }
    if (outcome !== "delivered") {
      // Release the claim (rows already delivered by a half of a split batch keep delivered_at).
      await this.release(rows.map((r) => r.seq));
      return outcome === "resend" ? { delivered: 0, pending: true } : { error: outcome.hold };
    }
    return { delivered: rows.length, pending: rows.length === this.opts.batchSize };
  }

  /**
   * Claims undelivered rows no other origin holds (SKIP LOCKED, then a lease), so several origins
   * on one database publish disjoint rows; a crashed holder's lease runs out. Changes before bulk
   * upkeep (`outbox.background`), each oldest first (`outbox_claim_idx`): a revocation made while
   * the refresher's thousands of OCSP rows, or a resync's every subject, wait is published in the
   * next batch, not after them. Out of version order across subjects is safe: each record carries
   * its subject's current state, and the edge discards a version older than it holds.
   */
  private async claim(): Promise<{ seq: number; kind: OutboxKind; subject: string }[]> {
    const now = this.s.clock.now();
    const until = new Date(now.getTime() + this.opts.leaseMs);
    const result = await this.s.db.execute(sql`
      update outbox set claimed_by = ${this.opts.instanceId}, claimed_until = ${until}
      where seq in (
        select seq from outbox
        where delivered_at is null and (claimed_until is null or claimed_until < ${now} or claimed_by = ${this.opts.instanceId})
        order by background, seq limit ${this.opts.batchSize}
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
   * Rows of agents whose monitor failed at the edge (monitor-unavailable): not claimable, by this
   * origin or another, for a backoff of their own (doubling with the row's attempts, up to
   * maxBackoffMs). Released instead, they were the oldest rows and claimed first every round: once
   * they filled a batch, nothing behind them (other agents' revocations) was ever sent, and the
   * whole publisher backed off for their sake.
   */
  private async defer(seqs: number[]): Promise<void> {
    if (seqs.length === 0) return;
    const now = this.s.clock.now().toISOString();
    const wait = sql`least(${this.opts.maxBackoffMs}, ${this.opts.minBackoffMs} * power(2, least(${outbox.attempts}, 30)))`;
    await this.s.db
      .update(outbox)
      .set({ attempts: sql`${outbox.attempts} + 1`, claimedBy: null, claimedUntil: sql`${now}::timestamptz + ${wait} * interval '1 millisecond'` })
      .where(inArray(outbox.seq, seqs));
  }

  /**
   * Publishes items. "delivered": acknowledged (or dead-lettered). A hold: the edge cannot take
   * anything now (retry later). "resend": the edge is ahead of this database's epoch (see
   * edgeAhead) and a new epoch began.
   *
   * The records are packed into batches under the edge's byte and count limits (a tenant's CRLs
   * can be many megabytes: partitioned CRLs, docs/crl-ocsp.md), records every edge understands
   * first: a batch of a newer contract version (publishWireVersion) that an edge still on the old
   * one holds with 426 never holds the certificates and agents behind it. An item is marked
   * delivered once all its records are; on a hold, items already complete stay delivered.
   */
  private async publishItems(items: Item[], epoch: OriginEpoch): Promise<"delivered" | "resend" | { hold: string } | { hold: string; held: Item[] }> {
    const units: Unit[] = items.flatMap((item) => item.records.map((record) => ({ item, record, bytes: Buffer.byteLength(JSON.stringify(record)) })));
    const done = new Set<Item>(items.filter((i) => i.records.length === 0));
    const remaining = new Map(items.map((i) => [i, i.records.length]));
    const count = (applied: Unit[]) => {
      for (const u of applied) {
        const left = remaining.get(u.item)! - 1;
        remaining.set(u.item, left);
        if (left === 0) done.add(u.item);
      }
    };
    /** Set when a batch was taken but for agents whose monitor failed: the rest of the batches still go. */
    let monitorHold: string | undefined;
    for (const batch of packBatches(units)) {
      const r = await this.publishUnits(batch, epoch);
      if (r !== "delivered") {
        // A hold the edge answered after applying part of the batch (monitor-unavailable): that
        // part is delivered. Left undelivered, it was claimed again, oldest first, every round for
        // as long as the one agent's monitor stayed broken, and once those rows filled a batch no
        // later row (another agent's revocation) was ever claimed.
        if (typeof r !== "string" && r.applied) count(r.applied);
        if (typeof r !== "string" && r.monitorOnly) {
          monitorHold = r.hold;
          continue;
        }
        await this.markDelivered([...done]);
        return r === "resend" ? r : { hold: r.hold };
      }
      count(batch);
    }
    if (monitorHold !== undefined) {
      await this.markDelivered([...done]);
      return { hold: monitorHold, held: items.filter((i) => !done.has(i)) };
    }
    await this.markDelivered(items);
    return "delivered";
  }

  /**
   * One batch. A batch the edge refuses (400/413/422: a record of a shape or size it will never
   * accept) is split in halves until the refused record stands alone; that record is dead-lettered
   * (visible, replayable) and counts as handled, so it never stops the others again.
   */
  private async publishUnits(units: Unit[], epoch: OriginEpoch): Promise<"delivered" | "resend" | Hold> {
    const records = units.map((u) => u.record);
    const version = publishWireVersion(records);
    const ack = await this.edge.publish({ wire_version: version, records, epoch });
    this.unreachable = !ack.ok && isUnreachable(ack.error);
    if (ack.ok) this.woken = false;
    if (ack.ok) {
      if (await this.edgeAhead(ack.value, epoch, records)) return "resend";
      return "delivered";
    }
    const e = ack.error;
    if (typeof e === "string" || !isRefusal(e)) {
      if (typeof e !== "string") {
        this.s.metrics.publishFailures.inc({ status: String(e.status) });
        if (isWireVersionRefusal(e.status, e.body)) {
          // A rolling deploy: the edge speaks another contract version. Hold and alert, never dead-letter.
          this.opts.log(`edge refuses wire_version ${version} (${e.body.slice(0, 200)}); holding until the deploy completes`);
        }
        // Some agents' monitors failed: the edge applied every other agent's records (monitor-unavailable.ts).
        const failed = monitorUnavailableAgents(e);
        if (failed) {
          // Applied as far as the ledger is concerned: not when it holds a newer epoch (a restored
          // database), which refuses the batch whole; then a new epoch re-publishes everything.
          if (await this.edgeAhead(failed.ack, epoch, records)) return "resend";
          return { hold: describePublishError(e), applied: units.filter((u) => appliedDespite(u.record, failed.agents)), monitorOnly: true };
        }
      } else {
        this.s.metrics.publishFailures.inc({ status: "0" });
      }
      return { hold: describePublishError(e) };
    }
    this.s.metrics.publishFailures.inc({ status: String(e.status) });
    if (units.length === 1) {
      const { item, record } = units[0]!;
      const now = this.s.clock.now();
      const tenantId = item.kind === "crl" ? item.subject : (record as { tenant_id?: string }).tenant_id ?? null;
      const ref = recordKey(record);
      await buryDeadLetter(this.s.db, {
        key: `origin:publish:${ref}:${item.v}`, source: "origin", kind: "publish", tenantId, agentId: null,
        ref, status: e.status, error: describePublishError(e), attempts: 1,
        payload: JSON.stringify({ kind: item.kind, subject: item.subject, v: item.v }), firstFailedAt: now,
      }, now);
      return "delivered";
    }
    const half = Math.ceil(units.length / 2);
    const first = await this.publishUnits(units.slice(0, half), epoch);
    // A hold of the whole first half stops here; one that only some agents' monitors caused does not.
    if (first === "resend" || (first !== "delivered" && !first.monitorOnly)) return first;
    const second = await this.publishUnits(units.slice(half), epoch);
    if (second === "resend") return second;
    if (first === "delivered" && second === "delivered") return "delivered";
    // What the first half had applied is delivered whatever the second's answer.
    const applied = [...(first === "delivered" ? units.slice(0, half) : (first.applied ?? [])), ...(second === "delivered" ? units.slice(half) : (second.applied ?? []))];
    const hold = first === "delivered" ? (second as Hold).hold : first.hold;
    return { hold, applied, monitorOnly: (first === "delivered" || first.monitorOnly === true) && (second === "delivered" || second.monitorOnly === true) };
  }

  private async markDelivered(items: Item[]): Promise<void> {
    const seqs = items.flatMap((i) => i.seqs);
    if (seqs.length) await this.s.db.update(outbox).set({ deliveredAt: this.s.clock.now(), claimedUntil: null }).where(inArray(outbox.seq, seqs));
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

/**
 * The edge did not take (all of) a batch. `applied`: the units it did take. `monitorOnly`: it took
 * every unit but those of agents whose monitor failed (monitor-unavailable), so nothing else waits.
 */
interface Hold {
  hold: string;
  applied?: Unit[];
  monitorOnly?: boolean;
}

export interface Item {
  kind: OutboxKind;
  subject: string;
  v: number;
  seqs: number[];
  records: EdgeRecord[];
}

/** 4xx that says "this batch, never": split it. Everything else (unreachable, 401, 408, 426, 429, 5xx) is a hold. */
function isRefusal(e: EdgeRefusal): boolean {
  return e.status >= 400 && e.status < 500 && ![401, 404, 408, 425, 426, 429].includes(e.status);
}
