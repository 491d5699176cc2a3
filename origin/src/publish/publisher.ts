import { and, asc, inArray, isNull, sql } from "drizzle-orm";
import { isWireVersionRefusal, WIRE_VERSION, type EdgeRecord } from "@kakunin/shared";
import { buryDeadLetter } from "../lifecycle/dead-letters.ts";
import { outbox } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { describePublishError, type EdgeClient, type EdgeRefusal } from "./edge-client.ts";
import { agentRecord, certRecord, crlRecords } from "./records.ts";
import type { PublishSigners } from "./signers.ts";
import { RetryLoop } from "../retry-loop.ts";
import { SigningGuard } from "./signing-guard.ts";

export interface PublisherOptions {
  batchSize?: number;
  /** Poll interval when idle: picks up rows another origin wrote, or ones left by a crash. */
  pollMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
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
  /** The signers behind a guard: a failing or hung key manager never stops status records. */
  readonly signers: SigningGuard;

  constructor(
    private readonly s: Services,
    private readonly edge: EdgeClient,
    signers: PublishSigners,
    opts: PublisherOptions = {},
  ) {
    this.opts = {
      batchSize: opts.batchSize ?? 200,
      pollMs: opts.pollMs ?? 1000,
      minBackoffMs: opts.minBackoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 30_000,
      log: opts.log ?? ((m) => console.warn(`[origin] publisher: ${m}`)),
    };
    this.signers = new SigningGuard(s, signers, () => this.kick(), { log: this.opts.log });
    this.loop = new RetryLoop(async () => {
      const r = await this.drainOnce();
      if ("error" in r) return { outcome: "failed", error: r.error };
      return { outcome: r.pending ? "more" : "idle" };
    }, { idleMs: this.opts.pollMs, minBackoffMs: this.opts.minBackoffMs, maxBackoffMs: this.opts.maxBackoffMs, name: "edge", log: this.opts.log });
  }

  start(): void {
    this.loop.start();
    this.signers.start();
  }

  async stop(): Promise<void> {
    await this.signers.stop();
    await this.loop.stop();
  }

  /** A change was committed: publish now, unless the edge is failing and we are backing off. */
  kick(): void {
    this.loop.kick();
  }

  /** One batch. Exposed for tests; the loop calls it. */
  async drainOnce(): Promise<DrainResult> {
    const rows = await this.s.db
      .select({ seq: outbox.seq, kind: outbox.kind, subject: outbox.subject })
      .from(outbox)
      .where(isNull(outbox.deliveredAt))
      .orderBy(asc(outbox.seq))
      .limit(this.opts.batchSize);
    if (rows.length === 0) return { delivered: 0, pending: false };
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
      } else {
        item.records.push(...(await crlRecords(this.s, this.signers, item.subject, item.v)));
      }
    }
    const held = await this.publishItems(items);
    if (held) {
      await this.s.db.update(outbox).set({ attempts: sql`${outbox.attempts} + 1` }).where(and(inArray(outbox.seq, rows.map((r) => r.seq)), isNull(outbox.deliveredAt)));
      return { error: held };
    }
    return { delivered: rows.length, pending: rows.length === this.opts.batchSize };
  }

  /**
   * Publishes items; returns an error when the edge cannot take anything now (hold: retry the
   * whole batch later). A batch the edge refuses (400/413/422: a record of a shape or size it will
   * never accept) is split in halves until the refused record stands alone; that record is
   * dead-lettered (visible, replayable) and marked handled, so it never stops the others again.
   */
  private async publishItems(items: Item[]): Promise<string | undefined> {
    const records = items.flatMap((i) => i.records);
    const ack = records.length > 0 ? await this.edge.publish({ wire_version: WIRE_VERSION, records }) : ({ ok: true } as const);
    if (ack.ok) {
      await this.markDelivered(items);
      return undefined;
    }
    const e = ack.error;
    if (typeof e === "string" || !isRefusal(e)) {
      if (typeof e !== "string" && isWireVersionRefusal(e.status, e.body)) {
        // A rolling deploy: the edge speaks another contract version. Hold and alert, never dead-letter.
        this.opts.log(`edge refuses wire_version ${WIRE_VERSION} (${e.body.slice(0, 200)}); holding until the deploy completes`);
      }
      return describePublishError(e);
    }
    if (items.length === 1) {
      const item = items[0]!;
      const now = this.s.clock.now();
      const tenantId = item.kind === "crl" ? item.subject : (item.records[0] as { tenant_id?: string } | undefined)?.tenant_id ?? null;
      await buryDeadLetter(this.s.db, {
        key: `origin:publish:${item.kind}:${item.subject}:${item.v}`, source: "origin", kind: "publish", tenantId, agentId: null,
        ref: `${item.kind}:${item.subject}`, status: e.status, error: describePublishError(e), attempts: 1,
        payload: JSON.stringify({ kind: item.kind, subject: item.subject, v: item.v }), firstFailedAt: now,
      }, now);
      await this.markDelivered(items);
      return undefined;
    }
    const mid = Math.ceil(items.length / 2);
    return (await this.publishItems(items.slice(0, mid))) ?? this.publishItems(items.slice(mid));
  }

  private async markDelivered(items: Item[]): Promise<void> {
    const seqs = items.flatMap((i) => i.seqs);
    if (seqs.length) await this.s.db.update(outbox).set({ deliveredAt: this.s.clock.now() }).where(inArray(outbox.seq, seqs));
  }
}

interface Item {
  kind: "cert" | "agent" | "crl";
  subject: string;
  v: number;
  seqs: number[];
  records: EdgeRecord[];
}

/** 4xx that says "this batch, never": split it. Everything else (unreachable, 401, 408, 426, 429, 5xx) is a hold. */
function isRefusal(e: EdgeRefusal): boolean {
  return e.status >= 400 && e.status < 500 && ![401, 404, 408, 425, 426, 429].includes(e.status);
}
