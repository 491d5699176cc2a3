import { asc, inArray, isNull, sql } from "drizzle-orm";
import type { EdgeRecord } from "@kakunin/shared";
import { outbox } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { EdgeClient } from "./edge-client.ts";
import { agentRecord, certRecord, crlRecords } from "./records.ts";
import type { PublishSigners } from "./signers.ts";
import { RetryLoop } from "../retry-loop.ts";

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
    const rows = await this.s.db
      .select({ seq: outbox.seq, kind: outbox.kind, subject: outbox.subject })
      .from(outbox)
      .where(isNull(outbox.deliveredAt))
      .orderBy(asc(outbox.seq))
      .limit(this.opts.batchSize);
    if (rows.length === 0) return { delivered: 0, pending: false };
    // Several rows for one subject collapse into its current state, versioned by the newest row.
    const latest = new Map<string, { kind: typeof rows[number]["kind"]; subject: string; v: number }>();
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
    const ack = records.length > 0 ? await this.edge.publish({ records }) : { ok: true as const, value: { applied: 0, stale: 0 } };
    if (!ack.ok) {
      await this.s.db.update(outbox).set({ attempts: sql`${outbox.attempts} + 1` }).where(inArray(outbox.seq, seqs));
      return { error: ack.error };
    }
    await this.s.db.update(outbox).set({ deliveredAt: this.s.clock.now() }).where(inArray(outbox.seq, seqs));
    return { delivered: rows.length, pending: rows.length === this.opts.batchSize };
  }
}
