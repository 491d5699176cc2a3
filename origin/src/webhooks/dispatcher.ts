import { and, eq, inArray, isNotNull, isNull, lte, lt, or, sql } from "drizzle-orm";
import type { LogFn } from "../observability/logger.ts";
import { rowsOfResult, type Queryable } from "../db/index.ts";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import { RetryLoop } from "../retry-loop.ts";
import type { Services } from "../services.ts";
import type { Resolver } from "./address-guard.ts";
import { redactedUrl } from "./redact-url.ts";
import { retryAfterMs } from "./retry-after.ts";
import { type SendOutcome, sendWebhook } from "./send.ts";
import { cloudEventId } from "./enqueue.ts";
import { signWebhook } from "./sign.ts";

export interface DispatcherOptions {
  /** Attempts before a delivery is dead-lettered (replayable with POST …/replay). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt (with ±50 % jitter) up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
  batchSize?: number;
  /** Delivered and dead deliveries (and their attempts) older than this are pruned; pending ones never. */
  retentionDays?: number;
  pollMs?: number;
  allowPrivate?: boolean;
  resolve?: Resolver;
  log?: LogFn;
  /**
   * Who holds the leases this dispatcher takes (main.ts: host + data dir + port, as the
   * publisher's). The same origin restarted takes back at once what its predecessor held when it
   * was killed, instead of leaving those alerts for the 60 s lease; default: a random id (never
   * matches an earlier run).
   */
  instanceId?: string;
}

const LEASE_MS = 60_000;
/**
 * Deliveries one endpoint may have in flight (claimed by any origin and not yet settled): a
 * receiver that hangs holds at most this many slots.
 */
const PER_ENDPOINT = 4;
const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 1_000;

/**
 * Delivers the durable webhook queue: due rows are leased (several origins never send the same
 * row at once), sent, and their outcome and attempt log written. Failures retry with exponential
 * backoff and jitter; after `maxAttempts` the row is dead (kept, listed, replayable). At least once.
 */
export class WebhookDispatcher {
  readonly opts: Required<Omit<DispatcherOptions, "resolve">> & { resolve?: Resolver };
  /** Whether this dispatcher has released the leases an earlier run under its instance id left. */
  private recovered = false;
  private readonly loop: RetryLoop;

  constructor(
    private readonly s: Services,
    o: DispatcherOptions = {},
  ) {
    this.opts = {
      maxAttempts: o.maxAttempts ?? 8,
      baseBackoffMs: o.baseBackoffMs ?? 5_000,
      maxBackoffMs: o.maxBackoffMs ?? 3_600_000,
      timeoutMs: o.timeoutMs ?? 10_000,
      batchSize: o.batchSize ?? 20,
      retentionDays: o.retentionDays ?? 30,
      pollMs: o.pollMs ?? 1_000,
      allowPrivate: o.allowPrivate ?? false,
      log: o.log ?? ((m, f) => s.logger.warn(m, { component: "webhooks", ...f })),
      resolve: o.resolve,
      instanceId: o.instanceId ?? crypto.randomUUID(),
    };
    this.loop = new RetryLoop(
      async () => {
        await this.pruneHourly();
        return { outcome: (await this.fill()) ? "more" : "idle" };
      },
      {
        idleMs: this.opts.pollMs,
        minBackoffMs: 500,
        maxBackoffMs: 30_000,
        name: "webhooks",
        log: this.opts.log,
        health: s.background.loop("webhooks"),
      },
    );
  }

  start(): void {
    this.loop.start();
  }
  async stop(): Promise<void> {
    await this.loop.stop();
    // Sends under way finish (each within timeoutMs) and record their outcome before shutdown.
    await Promise.allSettled([...this.inFlight]);
  }
  kick(): void {
    this.loop.kick();
  }

  private lastPrune = 0;
  private pruneBehind = false;

  /**
   * Hourly, one batch per loop tick while there is more, so a large backlog (the first run after
   * an upgrade) is worked off between delivery passes instead of holding them up.
   */
  private async pruneHourly(): Promise<void> {
    const now = this.s.clock.now();
    if (!this.pruneBehind && now.getTime() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now.getTime();
    const n = await this.prune(now, 1);
    this.pruneBehind = n === PRUNE_BATCH;
    if (n > 0 && !this.pruneBehind) this.opts.log(`pruned deliveries older than ${this.opts.retentionDays} days`);
  }

  /**
   * Deletes delivered and dead deliveries created more than `retentionDays` ago, with their
   * attempt log, in batches (at most `maxBatches`); pending ones are never pruned. The delivery log
   * is operational: what happened is in the audit trail. Returns how many deliveries were deleted.
   */
  async prune(now: Date, maxBatches = Number.POSITIVE_INFINITY): Promise<number> {
    const before = new Date(now.getTime() - this.opts.retentionDays * 86_400_000);
    let total = 0;
    for (let b = 0; b < maxBatches; b++) {
      const n = await this.s.db.transaction(async (tx) => {
        const old = await tx
          .select({ id: webhookDeliveries.id })
          .from(webhookDeliveries)
          .where(and(inArray(webhookDeliveries.status, ["delivered", "dead"]), lt(webhookDeliveries.createdAt, before)))
          .limit(PRUNE_BATCH)
          .for("update", { skipLocked: true });
        if (old.length === 0) return 0;
        const ids = old.map((r) => r.id);
        await tx.delete(webhookAttempts).where(inArray(webhookAttempts.deliveryId, ids));
        await tx.delete(webhookDeliveries).where(inArray(webhookDeliveries.id, ids));
        return ids.length;
      });
      total += n;
      if (n < PRUNE_BATCH) break;
    }
    return total;
  }

  /** One pass: sends every due delivery (up to batchSize) and waits for them; returns how many were attempted. */
  async drainOnce(): Promise<number> {
    const { due, lease } = await this.claim(this.opts.batchSize);
    await Promise.all(due.map((r) => this.deliver(r.d, r.url, r.secret, r.keyId, lease)));
    return due.length;
  }

  /** Sends under way from the running loop (at most batchSize). */
  private readonly inFlight = new Set<Promise<void>>();

  /**
   * The running loop's pass: claims as many due deliveries as there are free slots (batchSize in
   * flight at most) and starts them without waiting; each slot, when its send settles, wakes the
   * loop to be filled again. A pass that waited for its slowest send (drainOnce) held every tenant's
   * deliveries to one batch per receiver timeout whenever one receiver hung: one tenant feeding an
   * endpoint that never answers slowed the whole origin to about 2 deliveries a second. Returns
   * whether every free slot was filled (more may be due).
   */
  private async fill(): Promise<boolean> {
    const free = this.opts.batchSize - this.inFlight.size;
    if (free <= 0) return false;
    const { due, lease } = await this.claim(free);
    for (const r of due) {
      const sending: Promise<void> = this.deliver(r.d, r.url, r.secret, r.keyId, lease)
        .catch((e: unknown) =>
          this.opts.log("webhook delivery failed unexpectedly", { delivery_id: r.d.id, error: e instanceof Error ? e.message : String(e) }),
        )
        .finally(() => {
          this.inFlight.delete(sending);
          this.loop.kick();
        });
      this.inFlight.add(sending);
    }
    return due.length === free;
  }

  /** Leases up to `limit` due deliveries, fairly (fairCandidates), for this origin's sends. */
  private async claim(
    limit: number,
  ): Promise<{ due: { d: typeof webhookDeliveries.$inferSelect; url: string; secret: string; keyId: string }[]; lease: Date }> {
    if (!this.recovered) {
      await this.takeBackAbandoned();
      this.recovered = true;
    }
    const now = this.s.clock.now();
    const lease = new Date(now.getTime() + LEASE_MS);
    const due = await this.s.db.transaction(async (tx) => {
      const ids = await this.fairCandidates(tx, now, limit);
      if (ids.length === 0) return [];
      const rows = await tx
        .select({ d: webhookDeliveries, url: webhookEndpoints.url, secret: webhookEndpoints.secret, keyId: webhookEndpoints.keyId })
        .from(webhookDeliveries)
        .innerJoin(webhookEndpoints, eq(webhookDeliveries.endpointId, webhookEndpoints.id))
        .where(
          and(
            inArray(webhookDeliveries.id, ids),
            // Still due and unclaimed now that it is locked (another origin may have taken it since).
            eq(webhookDeliveries.status, "pending"),
            // Removing an endpoint ends its pending deliveries in the same transaction; this covers one
            // queued by a transaction that read the endpoint just before the removal committed.
            isNull(webhookEndpoints.disabledAt),
            lte(webhookDeliveries.nextAttemptAt, now),
            or(isNull(webhookDeliveries.claimedUntil), lt(webhookDeliveries.claimedUntil, now)),
          ),
        )
        .for("update", { skipLocked: true, of: webhookDeliveries });
      for (const r of rows) {
        await tx.update(webhookDeliveries).set({ claimedUntil: lease, claimedBy: this.opts.instanceId }).where(eq(webhookDeliveries.id, r.d.id));
      }
      return rows;
    });
    return { due, lease };
  }

  /**
   * Before this dispatcher's first claim, every pending delivery leased under its instance id was
   * leased by an earlier run of this origin (one instance id is one origin at a time: its port and
   * data dir), which was killed mid-send: nothing will settle those sends. Their leases end now, so
   * they are sent again in this pass rather than after the lease (up to 60 s of silence for an
   * alert, after every crash or OOM kill). At least once: the receiver may have had the request.
   */
  private async takeBackAbandoned(): Promise<void> {
    const rows = await this.s.db
      .update(webhookDeliveries)
      .set({ claimedUntil: null, claimedBy: null })
      .where(and(eq(webhookDeliveries.claimedBy, this.opts.instanceId), eq(webhookDeliveries.status, "pending"), isNotNull(webhookDeliveries.claimedUntil)))
      .returning({ id: webhookDeliveries.id });
    if (rows.length > 0)
      this.opts.log(`took back ${rows.length} deliveries an earlier run of this origin was sending when it stopped; sending them again`, {
        event: "deliveries_taken_back",
        count: rows.length,
      });
  }

  /**
   * The due deliveries this pass takes, fairly: from each endpoint its oldest, up to PER_ENDPOINT in
   * flight counting the ones already claimed (by this origin's earlier passes or another origin),
   * then round robin over tenants (every tenant's first before any tenant's second). In due order
   * alone, one tenant's backlog to receivers that hang would fill every pass, and every other
   * tenant's alerts would wait behind it; with slots refilled as sends settle (fill), a per-pass
   * cap alone let a hanging endpoint take every slot, four at a time. Each endpoint's oldest are
   * read from its own index.
   */
  private async fairCandidates(tx: Queryable, now: Date, limit: number): Promise<string[]> {
    const result = await tx.execute(sql`
      select c.id from (
        select y.id, y.next_attempt_at, row_number() over (partition by y.tenant_id order by y.next_attempt_at) as turn
        from (
          select e.tenant_id, x.id, x.next_attempt_at, busy.n,
            row_number() over (partition by e.id order by x.next_attempt_at) as k
          from ${webhookEndpoints} e
          cross join lateral (
            select count(*) as n from ${webhookDeliveries} f
            where f.endpoint_id = e.id and f.status = 'pending' and f.claimed_until >= ${now}
          ) busy
          cross join lateral (
            select d.id, d.next_attempt_at from ${webhookDeliveries} d
            where d.endpoint_id = e.id and d.status = 'pending' and d.next_attempt_at <= ${now}
              and (d.claimed_until is null or d.claimed_until < ${now})
            order by d.next_attempt_at
            limit ${PER_ENDPOINT}
          ) x
          where e.disabled_at is null
        ) y
        where y.k <= ${PER_ENDPOINT} - y.n
      ) c
      order by c.turn, c.next_attempt_at
      limit ${limit}`);
    return rowsOfResult<{ id: string }>(result).map((r) => r.id);
  }

  /**
   * Sends one leased delivery and writes its outcome. The attempt is always logged; the delivery row
   * takes the outcome only while it still holds this pass's lease: a replay or a removal of the
   * endpoint made meanwhile (both clear the lease), or another origin that took the row over after
   * the lease ran out, decided its state since, and an acknowledged replay must not be undone by
   * the attempt it was made during.
   */
  private async deliver(d: typeof webhookDeliveries.$inferSelect, url: string, secret: string, keyId: string, lease: Date): Promise<void> {
    const body = JSON.stringify(d.payload);
    const ts = Math.floor(this.s.clock.now().getTime() / 1000);
    const eventId = cloudEventId(d);
    const headers = {
      "content-type": "application/cloudevents+json; charset=utf-8",
      "user-agent": "Kakunin-Webhooks/1",
      "webhook-id": eventId,
      "webhook-timestamp": String(ts),
      "webhook-signature": signWebhook(secret, eventId, ts, body),
      "webhook-signature-key-id": keyId,
    };
    const out = await sendWebhook(new URL(url), headers, body, {
      timeoutMs: this.opts.timeoutMs,
      allowPrivate: this.opts.allowPrivate,
      resolve: this.opts.resolve,
    });
    // A 2xx that came with an error (its body cut short) is no acknowledgement (send.ts).
    const ok = out.error === null && out.status !== null && out.status >= 200 && out.status < 300;
    const attempt = d.attempts + 1;
    const at = this.s.clock.now();
    const dead = !ok && attempt >= this.opts.maxAttempts;
    const applied = await this.s.db.transaction(async (tx) => {
      // The log numbers every attempt of the delivery in order, across replays (which reset
      // `attempts`, the retry budget, to 0): restarting at 1 made "attempt 1" name two requests.
      // The row lock orders two attempts of one delivery (one in flight across a replay).
      await tx.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(eq(webhookDeliveries.id, d.id)).for("update");
      await tx.insert(webhookAttempts).values({
        deliveryId: d.id,
        endpointId: d.endpointId,
        attempt: sql`(select coalesce(max(${webhookAttempts.attempt}), 0) + 1 from ${webhookAttempts} where ${webhookAttempts.deliveryId} = ${d.id})`,
        at,
        status: out.status,
        error: out.error,
        durationMs: Math.round(out.durationMs),
      });
      const rows = await tx
        .update(webhookDeliveries)
        .set({
          attempts: sql`${webhookDeliveries.attempts} + 1`,
          status: ok ? "delivered" : dead ? "dead" : "pending",
          deliveredAt: ok ? at : null,
          nextAttemptAt: ok || dead ? d.nextAttemptAt : new Date(at.getTime() + this.retryDelay(attempt, out, at)),
          claimedUntil: null,
          claimedBy: null,
          lastStatus: out.status,
          lastError: out.error ?? (ok ? null : `HTTP ${out.status}`),
        })
        .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.claimedUntil, lease)))
        .returning({ id: webhookDeliveries.id });
      return rows.length > 0;
    });
    if (!applied)
      return this.opts.log(
        `delivery ${d.id}: changed while attempt ${attempt} was in flight (replayed, endpoint removed or lease taken over); the attempt is logged, its outcome not applied`,
      );
    if (dead) {
      this.opts.log(`delivery ${d.id} to ${redactedUrl(url)} dead-lettered after ${attempt} attempts: ${out.error ?? `HTTP ${out.status}`}`, {
        event: "delivery_dead",
        delivery_id: d.id,
        attempt,
        status: out.status,
        error: out.error ?? `HTTP ${out.status}`,
      });
    }
  }

  /**
   * How long until the next attempt: the backoff, or longer when the receiver asked for it with
   * Retry-After on a 429 or 503 (as Stripe and GitHub clients expect of a sender: sending again
   * sooner only meets the same 429 and burns an attempt). Never longer than maxBackoffMs, so a
   * receiver (any tenant admin's) cannot park alerts for days; never shorter than the backoff.
   */
  private retryDelay(attempt: number, out: SendOutcome, at: Date): number {
    const backoff = this.backoff(attempt);
    const asked = retryAfterMs(out.status, out.retryAfter ?? null, at);
    return asked === null ? backoff : Math.max(backoff, Math.min(asked, this.opts.maxBackoffMs));
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** (attempt - 1));
    return base / 2 + Math.random() * (base / 2);
  }
}
