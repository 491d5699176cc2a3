import { createHash } from "node:crypto";
import type { LogFn } from "../observability/logger.ts";
import { and, asc, eq, gte, isNull, lt, lte, max, or, sql } from "drizzle-orm";
import type { ArchiveError, ArchiveStore } from "../archive/types.ts";
import { auditBatches, auditEntries, auditHeads, auditTreeHeadArchive, auditTreeHeads, authorities } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { RetryLoop } from "../retry-loop.ts";

export interface ArchiverOptions {
  /** Readies the store (S3: create/verify the Object Lock bucket); retried until it succeeds once. */
  prepare?: () => Promise<{ ok: boolean; error?: { message: string } }>;
  /** How long an origin may hold a batch's upload lease (longer than one HEAD + PUT). */
  leaseMs?: number;
  /**
   * Who holds leases. Stable across restarts of the same origin (host, data dir, port), so an
   * origin killed mid-upload takes its batches back at once instead of waiting out its own lease.
   */
  instanceId?: string;
  /** Entries per sealed object. */
  batchSize?: number;
  /** A partial batch is sealed once its oldest entry is this old. */
  maxAgeMs?: number;
  retentionDays?: number;
  intervalMs?: number;
  log?: LogFn;
}

const DAY = 86_400_000;

/**
 * Default upload lease. It must outlast the worst case of one batch's I/O, or a second origin
 * takes the batch over while the first is still uploading (harmless — put() finds the object and
 * compares its bytes — but wasted): reading the entries (statement timeout, 15 s by default) + the
 * store's HEAD and then PUT, or GET (the bytes already there) and a retention PUT (10 s S3 timeout
 * each) = 45 s. 60 s leaves room; raise it with larger statement or S3 timeouts.
 */
export const ARCHIVE_LEASE_MS = 60_000;

/**
 * `audit/<tenant>/<first>-<last>-<sha256 of the object, first 16 hex>.jsonl`, zero-padded so keys
 * sort in log order. The content's hash is part of the key because a range's content is not fixed
 * forever: after a database restore the log grows again from the restore point with other
 * entries, and a key of the range alone would already hold the lost history's bytes, locked for
 * years, refusing the new batch on every attempt (docs/archive.md). Batches sealed before keep
 * the key recorded for them (`<first>-<last>.jsonl`).
 */
export function objectKey(tenantId: string, first: number, last: number, sha256Hex: string): string {
  return `audit/${tenantId}/${String(first).padStart(12, "0")}-${String(last).padStart(12, "0")}-${sha256Hex.slice(0, 16)}.jsonl`;
}

/** `audit/<tenant>/tree-heads/<size>-<root hash, first 16 hex>.json`: after a restore a size is signed again with another root. */
export function treeHeadKey(tenantId: string, treeSize: number, rootHashHex: string): string {
  return `audit/${tenantId}/tree-heads/${String(treeSize).padStart(12, "0")}-${rootHashHex.slice(0, 16)}.json`;
}

/**
 * Moves the audit log into WORM storage. Two steps, each safe to repeat after a crash:
 * 1. seal: fix the next batch's range, object key and SHA-256 in the database (the primary key on
 *    (tenant, first index) makes a second seal of the same range impossible);
 * 2. upload, per tenant in log order: rebuild the object from the immutable entries and put() it
 *    with Object Lock; put() is write-once and idempotent, so a key already holding exactly these
 *    bytes (an upload that succeeded before a crash) is just recorded, and other bytes there are
 *    refused whatever their metadata says. A failure stops that tenant's queue (order is kept) and is
 *    retried with backoff; entries stay in the database until the archive accepted them.
 */
export class Archiver {
  private readonly o: Required<ArchiverOptions>;
  private readonly loop: RetryLoop;
  private prepared = false;
  private stopping = false;
  private lastError = "";
  /** The tenant whose upload found the store unavailable in the last pass: the next one starts after it. */
  private unavailableTenant?: string;
  private readonly id: string;

  constructor(private readonly s: Services, private readonly store: ArchiveStore, opts: ArchiverOptions = {}) {
    this.o = {
      batchSize: opts.batchSize ?? 1000, maxAgeMs: opts.maxAgeMs ?? 60_000, retentionDays: opts.retentionDays ?? 2557,
      intervalMs: opts.intervalMs ?? 2000, log: opts.log ?? ((m, f) => s.logger.warn(m, { component: "archiver", ...f })),
      prepare: opts.prepare ?? (async () => ({ ok: true })), leaseMs: opts.leaseMs ?? ARCHIVE_LEASE_MS,
      instanceId: opts.instanceId ?? crypto.randomUUID(),
    };
    this.id = this.o.instanceId;
    this.loop = new RetryLoop(async () => {
      const r = await this.runOnce();
      return r.failed > 0 ? { outcome: "failed", error: `${r.failed} batch(es) not archived yet: ${this.lastError}` } : { outcome: "idle" };
    }, { idleMs: this.o.intervalMs, minBackoffMs: this.o.intervalMs, maxBackoffMs: 60_000, name: "archive", log: this.o.log, health: s.background.loop("archive") });
  }

  start(): void {
    this.loop.start();
  }

  /**
   * Stops the loop and waits for the pass under way. That pass starts no further upload (a batch, a
   * tree head, the store check): against a hung store each one costs a 10 s timeout, and a pass
   * finishing its batch and then its tree heads outlasted the shutdown's 12 s grace, so a SIGTERM
   * during an S3 outage ended in shutdown_timed_out and exit 1.
   */
  stop(): Promise<void> {
    this.stopping = true;
    return this.loop.stop();
  }

  /** One pass: seal what is due, upload what is sealed. Returns what happened (for tests). */
  private inflight?: Promise<{ sealed: number; archived: number; failed: number }>;

  /** One pass; a call while a pass is running joins it (an instance never uploads concurrently). */
  runOnce(): Promise<{ sealed: number; archived: number; failed: number }> {
    this.inflight ??= this.pass().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async pass(): Promise<{ sealed: number; archived: number; failed: number }> {
    const sealed = await this.sealDue();
    if (this.stopping) return { sealed, archived: 0, failed: 0 };
    if (!this.prepared) {
      // A store that was unreachable at start-up (e.g. the bucket could not be created yet) is
      // prepared again here, not only at start.
      const p = await this.o.prepare();
      if (!p.ok) {
        this.lastError = `store not ready: ${p.error?.message ?? "unknown"}`;
        return { sealed, archived: 0, failed: 1 };
      }
      this.prepared = true;
    }
    const { archived, failed } = await this.uploadSealed();
    const headsFailed = this.stopping ? 0 : await this.uploadTreeHeads();
    return { sealed, archived, failed: failed + headsFailed };
  }

  /**
   * Every signed tree head goes to the WORM store too, as the JSON a verifier reads (the head with
   * its signer certificate), under the same retention: the log's commitments survive the database.
   * Idempotent like the batches: an object already holding these bytes is just recorded (put() checks the bytes).
   */
  private async uploadTreeHeads(): Promise<number> {
    const pending = await this.s.db.select({ h: auditTreeHeads, serial: authorities.serialNumber, pem: authorities.certificatePem })
      .from(auditTreeHeads)
      .innerJoin(authorities, eq(authorities.id, auditTreeHeads.signerId))
      .leftJoin(auditTreeHeadArchive, and(eq(auditTreeHeadArchive.tenantId, auditTreeHeads.tenantId), eq(auditTreeHeadArchive.treeSize, auditTreeHeads.treeSize)))
      .where(isNull(auditTreeHeadArchive.treeSize)).orderBy(asc(auditTreeHeads.tenantId), asc(auditTreeHeads.treeSize)).limit(200);
    let failed = 0;
    for (const { h, serial, pem } of pending) {
      if (this.stopping) break;
      const key = treeHeadKey(h.tenantId, h.treeSize, Buffer.from(h.rootHash).toString("hex"));
      const body = new TextEncoder().encode(`${JSON.stringify({
        tenant_id: h.tenantId, tree_size: h.treeSize, root_hash: Buffer.from(h.rootHash).toString("hex"), timestamp: h.timestamp.toISOString(),
        signature: Buffer.from(h.signature).toString("base64"), signature_algorithm: "RSASSA_PKCS1_V1_5_SHA_256", signer_serial: serial, signer_certificate_pem: pem,
      })}\n`);
      const digest = sha256(body);
      // Always put(), never "head says it is there": put is idempotent for the same bytes and judges
      // an existing object by its bytes and its lock, not by metadata anyone with the keys can set.
      const retainUntil = new Date(this.s.clock.now().getTime() + this.o.retentionDays * DAY);
      const put = await this.store.put(key, body, { retainUntil, sha256Hex: digest });
      if (!put.ok) {
        this.lastError = putError(key, put.error);
        failed++;
        // The store is down (timed out, 5xx), not this head: one timeout per pass, not one per head
        // queued (up to 200 of them, 10 s each against a hung store, before the pass could report).
        if (put.error.code === "unavailable") break;
        continue;
      }
      await this.s.db.insert(auditTreeHeadArchive).values({ tenantId: h.tenantId, treeSize: h.treeSize, objectKey: key, sha256: digest, versionId: put.value.versionId }).onConflictDoNothing();
    }
    return failed;
  }

  private async sealDue(): Promise<number> {
    const now = this.s.clock.now().getTime();
    const heads = await this.s.db.select().from(auditHeads);
    let sealed = 0;
    for (const h of heads) {
      for (;;) {
        const [m] = await this.s.db.select({ last: max(auditBatches.lastIdx) }).from(auditBatches).where(eq(auditBatches.tenantId, h.tenantId));
        const next = (m?.last ?? -1) + 1;
        const [cur] = await this.s.db.select({ size: auditHeads.size }).from(auditHeads).where(eq(auditHeads.tenantId, h.tenantId));
        const pending = (cur?.size ?? 0) - next;
        if (pending <= 0) break;
        if (pending < this.o.batchSize) {
          const [oldest] = await this.s.db.select({ at: auditEntries.createdAt }).from(auditEntries)
            .where(and(eq(auditEntries.tenantId, h.tenantId), eq(auditEntries.idx, next)));
          if (!oldest || now - oldest.at.getTime() < this.o.maxAgeMs) break;
        }
        const last = next + Math.min(pending, this.o.batchSize) - 1;
        const body = await this.body(h.tenantId, next, last);
        const digest = sha256(body);
        const inserted = await this.s.db.insert(auditBatches).values({
          tenantId: h.tenantId, firstIdx: next, lastIdx: last, objectKey: objectKey(h.tenantId, next, last, digest),
          sha256: digest, retainUntil: new Date(now + this.o.retentionDays * DAY), store: this.store.kind,
        }).onConflictDoNothing().returning();
        if (inserted.length === 0) break; // another origin sealed it first
        sealed++;
      }
    }
    return sealed;
  }

  /**
   * A put that failed as `unavailable` (timeout, connection error, 5xx, 429) ends the batches of this
   * pass: against a hung store each attempt costs the whole request timeout, and a pass over every
   * tenant's queue ran for (tenants × 10 s) before it reported anything or backed off. So that a
   * tenant whose uploads keep failing cannot hold up the others, the next pass starts with the
   * tenants after it and comes back to it last.
   */
  private async uploadSealed(): Promise<{ archived: number; failed: number }> {
    const sorted = await this.s.db.select().from(auditBatches).where(isNull(auditBatches.archivedAt)).orderBy(asc(auditBatches.tenantId), asc(auditBatches.firstIdx));
    const after = this.unavailableTenant;
    const pending = after === undefined ? sorted : [...sorted.filter((b) => b.tenantId > after), ...sorted.filter((b) => b.tenantId <= after)];
    this.unavailableTenant = undefined;
    let archived = 0;
    let failed = 0;
    const blocked = new Set<string>();
    for (const b of pending) {
      if (this.stopping) break;
      if (blocked.has(b.tenantId)) continue;
      // Lease the batch: with several origins on one database only one uploads it at a time.
      const now = this.s.clock.now();
      const claimed = await this.s.db.update(auditBatches)
        .set({ claimedBy: this.id, claimedUntil: new Date(now.getTime() + this.o.leaseMs) })
        .where(and(
          eq(auditBatches.tenantId, b.tenantId), eq(auditBatches.firstIdx, b.firstIdx), isNull(auditBatches.archivedAt),
          or(isNull(auditBatches.claimedUntil), lt(auditBatches.claimedUntil, now), eq(auditBatches.claimedBy, this.id)),
        ))
        .returning({ k: auditBatches.objectKey });
      if (claimed.length === 0) {
        blocked.add(b.tenantId); // another origin is uploading this tenant's queue; keep order
        continue;
      }
      const body = await this.body(b.tenantId, b.firstIdx, b.lastIdx);
      if (sha256(body) !== b.sha256) {
        // Entries are append-only (trigger); a mismatch means the database was tampered with.
        this.o.log(`batch ${b.objectKey}: entries no longer match the sealed hash; refusing to archive`);
        blocked.add(b.tenantId);
        failed++;
        continue;
      }
      // put() even after a crash mid-upload: for the same bytes it answers with the stored version
      // (locking it if it was not), and it reads the bytes, not the metadata, of what is there.
      const retainUntil = uploadRetention(b.retainUntil, now, this.o.retentionDays);
      const put = await this.store.put(b.objectKey, body, { retainUntil, sha256Hex: b.sha256 });
      if (!put.ok) {
        this.lastError = putError(b.objectKey, put.error);
        await this.s.db.update(auditBatches).set({ attempts: sql`${auditBatches.attempts} + 1` })
          .where(and(eq(auditBatches.tenantId, b.tenantId), eq(auditBatches.firstIdx, b.firstIdx)));
        blocked.add(b.tenantId);
        failed++;
        if (put.error.code === "unavailable") {
          this.unavailableTenant = b.tenantId;
          break;
        }
        continue;
      }
      await this.s.db.update(auditBatches).set({ archivedAt: this.s.clock.now(), versionId: put.value.versionId, retainUntil })
        .where(and(eq(auditBatches.tenantId, b.tenantId), eq(auditBatches.firstIdx, b.firstIdx)));
      archived++;
    }
    return { archived, failed };
  }

  /** The object: one canonical entry per line, exactly the bytes that were hashed into the tree. */
  private async body(tenantId: string, first: number, last: number): Promise<Uint8Array> {
    const rows = await this.s.db.select({ canonical: auditEntries.canonical }).from(auditEntries)
      .where(and(eq(auditEntries.tenantId, tenantId), gte(auditEntries.idx, first), lte(auditEntries.idx, last)))
      .orderBy(asc(auditEntries.idx));
    return new TextEncoder().encode(rows.map((r) => r.canonical).join("\n") + "\n");
  }
}

/**
 * The retain-until a batch is uploaded with: the one fixed when it was sealed, unless the batch
 * waited for the store until that date is (nearly) past (a long outage, a short retention). A WORM
 * store refuses a retain-until in the past, and asking for the same date on every retry would keep
 * the batch, and the tenant's queue behind it, from ever being archived; such a batch is locked for
 * the full retention from now instead.
 */
export function uploadRetention(sealed: Date, now: Date, retentionDays: number): Date {
  return sealed.getTime() - now.getTime() >= LATE_MARGIN_MS ? sealed : new Date(now.getTime() + retentionDays * DAY);
}

/** Less retention than this left at upload counts as run out (the request must still arrive in time). */
const LATE_MARGIN_MS = 3_600_000;

/**
 * Why a put failed, for the pass's error (log line, /readyz, which keep 200 characters of it): the
 * key once, then the cause. The store's message already names the key, and "<key>: code: S3 HEAD
 * <key>: …" spent the 200 characters on two copies of it, so /readyz cut off the cause itself.
 */
function putError(key: string, e: ArchiveError): string {
  return e.message.includes(key) ? `${e.code}: ${e.message}` : `${key}: ${e.code}: ${e.message}`;
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}
