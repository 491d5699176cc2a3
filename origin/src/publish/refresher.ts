import { and, gt, isNull, lt, or, sql } from "drizzle-orm";
import { rowsOfResult, type Queryable } from "../db/index.ts";
import { pruneMinters } from "../lifecycle/ingest-token-minters.ts";
import { authorities, certificates } from "../db/schema.ts";
import { errorFields } from "../observability/logger.ts";
import type { Services } from "../services.ts";
import { enqueue } from "./outbox.ts";
import { CRL_VALIDITY_MS, OCSP_VALIDITY_MS } from "./signers.ts";

/**
 * Delivered outbox rows are kept this long, then deleted by the refresher. They are only history
 * (the publisher reads pending rows; versions come from the sequence, not the rows), and without
 * a bound the table grows forever: the OCSP refresh alone queues every live certificate every two
 * days, 18 M rows a year for 100k agents. The console's propagation panel reads them, so it shows
 * revocations of this window only.
 */
export const OUTBOX_RETENTION_MS = 30 * 86_400_000;
/** Rows deleted per run at most (a run every 10 minutes: 1.4 M a day), so one run stays short. */
const PRUNE_BATCH = 10_000;

export interface RefresherOptions {
  /** How often to look for responses due for re-signing. */
  intervalMs?: number;
  /** Certificates re-queued per run (bounded: a KMS has a sign quota). */
  batch?: number;
}

/**
 * Keeps pre-signed material fresh: OCSP responses past half their validity (or never signed, e.g.
 * while the KMS was down) and every tenant's CRL at half its validity are queued for the publisher,
 * which re-signs and delivers them. Certificates expired for over a day drop out.
 */
export class Refresher {
  private timer?: ReturnType<typeof setInterval>;
  private lastCrl = 0;
  /** The run under way, so that stop() lets it commit or roll back before the database closes. */
  private current?: Promise<unknown>;

  constructor(private readonly s: Services, private readonly opts: RefresherOptions = {}) {}

  start(): void {
    const health = this.s.background.loop("refresh");
    // A failed run (the database down or its disk full) is counted, logged and retried at the next
    // interval; left to `void`, its rejection went unhandled, and main.ts exits on that.
    const tick = () => {
      if (this.current) return;
      this.current = this.runOnce()
        .then(health.succeeded, (e: unknown) => {
          health.failed(e);
          this.s.logger.warn("refresh run failed; the next run retries", { component: "refresher", event: "run_failed", ...errorFields(e) });
        })
        .finally(() => {
          this.current = undefined;
        });
    };
    tick();
    this.timer = setInterval(tick, this.opts.intervalMs ?? 10 * 60_000);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.current;
  }

  /** Resolves when the run under way (right after start(): the first, which queues every CRL) has ended; never rejects. */
  async settled(): Promise<void> {
    await this.current;
  }

  /**
   * One run, in one transaction under a transaction-scoped advisory lock: when several origins
   * share the database, one refreshes at a time and the others skip the run. The enqueue is inside
   * the same transaction, so it takes each subject's version lock like every other writer.
   */
  async runOnce(): Promise<{ certs: number; crls: number; pruned: number }> {
    const now = this.s.clock.now().getTime();
    const r = await this.s.db.transaction(async (tx) => {
      const lock = rowsOfResult<{ ok: boolean }>(await tx.execute(sql`select pg_try_advisory_xact_lock(${REFRESHER_LOCK}) as ok`));
      if (!lock[0]?.ok) return { certs: 0, crls: 0, queued: 0, pruned: 0 };
      const due = new Date(now - OCSP_VALIDITY_MS / 2);
      const stale = await tx
        .select({ serial: certificates.serialNumber })
        .from(certificates)
        .where(and(
          or(isNull(certificates.ocspProducedAt), lt(certificates.ocspProducedAt, due)),
          gt(certificates.expiresAt, new Date(now - 86_400_000)),
        ))
        .limit(this.opts.batch ?? 1000);
      let crls = 0;
      const items: { kind: "cert" | "crl"; subject: string }[] = stale.map((c) => ({ kind: "cert", subject: c.serial }));
      if (now - this.lastCrl >= CRL_VALIDITY_MS / 2) {
        // The active issuer only: one row per tenant even after rollovers (retired CAs ride along).
        const tenantsWithCa = await tx.select({ id: authorities.tenantId }).from(authorities).where(sql`${authorities.kind} = 'issuing' and ${authorities.status} = 'active'`);
        for (const t of tenantsWithCa) if (t.id) items.push({ kind: "crl", subject: t.id });
        crls = tenantsWithCa.length;
      }
      await enqueue(tx, items, { background: true });
      // Minting records outlive their tokens by an hour (clock skew at the edge), then go.
      await pruneMinters(tx, new Date(now - 3_600_000));
      return { certs: stale.length, crls, queued: items.length, pruned: await pruneDelivered(tx, new Date(now - OUTBOX_RETENTION_MS)) };
    });
    if (r.crls > 0) this.lastCrl = now;
    if (r.queued) this.s.publisher?.kick();
    return { certs: r.certs, crls: r.crls, pruned: r.pruned };
  }
}

/** Advisory lock key of the refresher ("kakunin refresh" as a 63-bit number, arbitrary but fixed). */
const REFRESHER_LOCK = 0x6b616b726566;

/**
 * Deletes up to PRUNE_BATCH rows delivered before `before`. In sequence order, which the primary
 * key serves: the oldest rows go first, so each run stops after the rows it deletes instead of
 * scanning the table for old delivery times. Pending rows are never touched, however old, nor a
 * tenant's newest scoring row: whether a refused (dead-lettered) scoring record was superseded by
 * a later change is read from it (scoring-published.ts). Until 2026-12-07 it went too, and a month
 * after a refused change that a later one superseded, `published` read false for good.
 */
async function pruneDelivered(tx: Queryable, before: Date): Promise<number> {
  const gone = await tx.execute(sql`
    delete from outbox where seq in (
      select o.seq from outbox o where o.delivered_at is not null and o.delivered_at < ${before}
        and (o.kind <> 'scoring' or exists (select 1 from outbox n where n.kind = 'scoring' and n.subject = o.subject and n.seq > o.seq))
      order by o.seq limit ${PRUNE_BATCH})
    returning seq`);
  return rowsOfResult(gone).length;
}
