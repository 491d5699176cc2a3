import { asc, inArray, isNull, sql } from "drizzle-orm";
import type { EdgeRecord } from "@kakunin/shared";
import { outbox } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { EdgeClient } from "./edge-client.ts";
import { agentRecord, certRecord, crlRecords } from "./records.ts";
import type { PublishSigners } from "./signers.ts";

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
  private timer?: ReturnType<typeof setTimeout>;
  private running = false;
  private stopped = true;
  private failures = 0;
  private kicked = false;
  private readonly opts: Required<PublisherOptions>;

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
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }

  /** A change was committed: publish now, unless the edge is failing and we are backing off. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    if (this.failures === 0) this.schedule(0);
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

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    this.kicked = false;
    let next = this.opts.pollMs;
    try {
      const r = await this.drainOnce();
      if ("error" in r) {
        this.failures++;
        const base = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** Math.min(this.failures - 1, 16));
        next = base / 2 + Math.random() * (base / 2);
        if (this.failures === 1 || this.failures % 10 === 0) this.opts.log(`${r.error} (attempt ${this.failures}, retrying in ${Math.round(next)} ms)`);
      } else {
        if (this.failures > 0) this.opts.log(`edge reachable again after ${this.failures} failed attempt(s)`);
        this.failures = 0;
        if (r.pending || this.kicked) next = 0;
      }
    } catch (e) {
      this.failures++;
      next = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** Math.min(this.failures, 16));
      this.opts.log(`unexpected error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    } finally {
      this.running = false;
    }
    this.schedule(next);
  }
}
