import { and, eq, inArray, isNotNull, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import type { Db, Queryable } from "../db/index.ts";
import { authorities, caRequests, certificates, managedKeys, tenants } from "../db/schema.ts";
import type { KeyManager, ListedKey } from "../kms/types.ts";
import { appendAudit } from "../audit/append.ts";
import { SYSTEM, type AuditActor } from "../audit/types.ts";
import { retiredIssuerKeysDue } from "./retired-issuers.ts";
import { supersedeDue } from "./supersede.ts";

export interface TidyOptions {
  now: Date;
  /** Keys are deleted only this long after their certificate stopped being valid (or their intent was made). */
  safetyBufferSeconds: number;
  pendingWindowDays: number;
  actor: AuditActor;
  /** Rows handled per phase and run (bounded: a KMS has request quotas); the next run continues. */
  batch?: number;
  /**
   * Register the backend's Kakunin keys this database has no record of, so a later run deletes
   * them (step 4). Off unless asked for: a key backend shared with another deployment (staging and
   * production in one AWS account and region, one HSM token) lists that deployment's keys too, its
   * root and issuing CA keys included, and tidy deleted them after the buffer.
   */
  adoptUntracked?: boolean;
}

export interface TidyReport {
  superseded: number;
  /** Keys of revoked, superseded and expired certificates scheduled for deletion. */
  certificate_keys: number;
  /** Keys of retired issuing CAs whose every certificate expired before the cutoff (final CRL published). */
  retired_ca_keys: number;
  /** Keys created but never referenced (lost races, crashes, failed commits) scheduled for deletion. */
  orphan_keys: number;
  /** Deletions an earlier run recorded but did not finish. */
  resumed: number;
  /** Intents whose CreateKey never produced a key. */
  abandoned: number;
  /** Keys on the backend this database has no record of (another deployment's, or older than intents), up to the batch. */
  untracked_seen: number;
  /** Of those, registered now to be deleted after the buffer (only with adoptUntracked). */
  untracked_registered: number;
  failed: { key_ref: string; error: string }[];
}

type KeyRow = typeof managedKeys.$inferSelect;

/**
 * Deletes the keys nothing needs any more, like Vault PKI's `tidy`. Every deletion is recorded
 * (`deleting`, audited) in the database BEFORE the backend call and marked `deleted` after it, so
 * a run interrupted anywhere is resumed by the next, and running twice deletes nothing twice.
 * The only CA keys touched are those of retired issuing CAs (after a rollover) with nothing left to
 * sign for; the root, active issuing CAs and tree-head signers are never deleted here.
 */
export async function tidy(db: Db, keys: KeyManager, o: TidyOptions): Promise<TidyReport> {
  const report: TidyReport = { superseded: 0, certificate_keys: 0, retired_ca_keys: 0, orphan_keys: 0, resumed: 0, abandoned: 0, untracked_seen: 0, untracked_registered: 0, failed: [] };
  const cutoff = new Date(o.now.getTime() - o.safetyBufferSeconds * 1000);
  const batch = o.batch ?? 500;
  // Audited as the caller's act: an admin's tidy names the admin (until 2026-12-07 it said
  // system/renewal); the periodic job's runs stay the renewal job's, as its own loop's are.
  report.superseded = await supersedeDue(db, o.now, o.actor.type === "system" ? SYSTEM("renewal") : o.actor);

  // 1. Resume deletions recorded by an earlier run (or a failure path) that did not complete.
  const pending = await db.select().from(managedKeys).where(eq(managedKeys.state, "deleting")).limit(batch);
  for (const row of pending) if (await destroy(db, keys, o, row, report)) report.resumed++;

  // 2. Keys of certificates that stopped being valid before the cutoff.
  const dead = await db
    .select({ ref: certificates.keyRef, tenantId: certificates.tenantId, id: certificates.id, serial: certificates.serialNumber, agentId: certificates.agentId })
    .from(certificates)
    .leftJoin(managedKeys, eq(managedKeys.keyRef, certificates.keyRef))
    .where(and(
      or(isNull(managedKeys.id), inArray(managedKeys.state, ["creating", "created"])),
      or(
        // Inclusive: with a zero buffer a certificate revoked at this instant is already dead.
        and(eq(certificates.status, "revoked"), lte(certificates.revokedAt, cutoff)),
        and(inArray(certificates.status, ["renewed", "superseded"]), lte(certificates.supersededAt, cutoff)),
        lte(certificates.expiresAt, cutoff),
      ),
    ))
    .limit(batch);
  for (const c of dead) {
    const row = await claim(db, { ...o, backend: keys.kind }, { ref: c.ref, tenantId: c.tenantId, reason: `certificate ${c.serial} no longer valid`, certificateId: c.id, agentId: c.agentId });
    if (row && (await destroy(db, keys, o, row, report))) report.certificate_keys++;
  }

  // 2b. Keys of retired issuing CAs: every certificate they signed expired before the cutoff and
  //     their tenant has no CRL publication pending (docs/ca-lifecycle.md, "What happens to the old CA").
  for (const ca of await retiredIssuerKeysDue(db, { now: o.now, cutoff, limit: batch })) {
    const row = await claim(db, { ...o, backend: keys.kind }, {
      ref: ca.keyRef, tenantId: ca.tenantId, purpose: "issuing", authoritySerial: ca.serialNumber,
      reason: `retired issuing CA ${ca.serialNumber}: every certificate it signed has expired`,
    });
    if (row && (await destroy(db, keys, o, row, report))) report.retired_ca_keys++;
  }

  // 3. Intents older than the buffer whose key nothing references: orphans.
  const stale = await db
    .select()
    .from(managedKeys)
    .where(and(
      inArray(managedKeys.state, ["creating", "created"]),
      // Strict: an intent made at this very instant may belong to a certify still in flight.
      lt(managedKeys.createdAt, cutoff),
      sql`not exists (select 1 from ${certificates} where ${certificates.keyRef} = ${managedKeys.keyRef})`,
      sql`not exists (select 1 from ${authorities} where ${authorities.keyRef} = ${managedKeys.keyRef})`,
      // A pending offline-root CSR's key waits (maybe for weeks) for its signed certificate.
      sql`not exists (select 1 from ${caRequests} where ${caRequests.keyRef} = ${managedKeys.keyRef})`,
      // Keys registered by step 4 (purpose `unknown`), by this run or by runs before it adopted
      // without asking, may be another deployment's: deleted only when the operator says the
      // backend is this deployment's alone.
      ...(o.adoptUntracked === true ? [] : [ne(managedKeys.purpose, "unknown")]),
    ))
    .limit(batch);
  let listed: ListedKey[] | undefined;
  const listing = async (): Promise<ListedKey[] | undefined> => {
    if (listed) return listed;
    const r = await keys.listKeys();
    if (!r.ok) report.failed.push({ key_ref: "(listKeys)", error: `${r.error.code}: ${r.error.message}` });
    else listed = r.value;
    return listed;
  };
  for (const row of stale) {
    let ref = row.keyRef;
    if (!ref) {
      // The crash (or lost answer) came before the ref was stored: find the key by its intent id.
      const all = await listing();
      if (!all) break;
      ref = all.find((k) => k.intent === row.id)?.ref ?? null;
      if (!ref) {
        await db.update(managedKeys).set({ state: "abandoned" }).where(and(eq(managedKeys.id, row.id), eq(managedKeys.state, "creating")));
        report.abandoned++;
        continue;
      }
      await db.update(managedKeys).set({ keyRef: ref }).where(eq(managedKeys.id, row.id));
    }
    const claimed = await claim(db, { ...o, backend: keys.kind }, { ref, tenantId: row.tenantId, reason: "orphan: created but never referenced", intentId: row.id });
    if (claimed && (await destroy(db, keys, o, claimed, report))) report.orphan_keys++;
  }

  // 3b. A second key for one intent. The SDK retries a CreateKey whose answer was lost (connection
  //     reset, a 5xx after KMS acted), so the backend can hold two keys tagged with one intent while
  //     the row names only the one whose answer arrived. The other is referenced by nothing and
  //     never will be; step 4 skips keys with a known intent, so without this it stayed forever.
  //     AWS only: no other backend retries a create, and on PKCS#11 the intent is the CKA_ID that
  //     deletion goes by, so a ref spelled differently (an older URI form) would name the live key.
  const listedNow = keys.kind === "aws-kms" ? await listing() : undefined;
  if (listedNow) {
    const withRef = new Map((await db.select().from(managedKeys).where(isNotNull(managedKeys.keyRef))).map((r) => [r.id, r]));
    const seconds = listedNow.filter((k) => {
      const row = k.intent ? withRef.get(k.intent) : undefined;
      return row !== undefined && row.keyRef !== k.ref && row.createdAt < cutoff;
    }).slice(0, batch);
    for (const k of seconds) {
      const row = withRef.get(k.intent!)!;
      if (await isReferenced(db, k.ref)) continue;
      const claimed = await claim(db, { ...o, backend: keys.kind }, {
        ref: k.ref, tenantId: row.tenantId, purpose: row.purpose, reason: `orphan: second key created for intent ${row.id} (CreateKey retried after a lost answer)`,
      });
      if (claimed && (await destroy(db, keys, o, claimed, report))) report.orphan_keys++;
    }
  }

  // 4. Keys on the backend with no row at all: made before intents existed, or another
  //    deployment's on a shared backend, which this database cannot tell apart. Counted always;
  //    registered (so a later run deletes them once older than the buffer and still unreferenced)
  //    only when the operator says the backend is this deployment's alone (adoptUntracked).
  const all = await listing();
  if (all) {
    const known = new Set((await db.select({ ref: managedKeys.keyRef, id: managedKeys.id }).from(managedKeys)).flatMap((r) => [r.ref, r.id]));
    const used = new Set([
      ...(await db.select({ ref: certificates.keyRef }).from(certificates)).map((r) => r.ref),
      ...(await db.select({ ref: authorities.keyRef }).from(authorities)).map((r) => r.ref),
      ...(await db.select({ ref: caRequests.keyRef }).from(caRequests)).map((r) => r.ref),
    ]);
    const fresh = all.filter((k) => !known.has(k.ref) && !(k.intent && known.has(k.intent)) && !used.has(k.ref)).slice(0, batch);
    report.untracked_seen = fresh.length;
    if (fresh.length && o.adoptUntracked === true) {
      await db.insert(managedKeys)
        .values(fresh.map((k) => ({ purpose: "unknown" as const, backend: keys.kind, label: k.label, keyRef: k.ref, state: "created" as const, createdAt: o.now })))
        .onConflictDoNothing();
      report.untracked_registered = fresh.length;
    }
  }
  return report;
}

/**
 * Records the intent to delete (state `deleting`, audited) in one transaction. Returns the row only
 * to the caller that moved it there, so two tidies never both call the backend for one key.
 */
async function claim(
  db: Db, o: TidyOptions & { backend: KeyManager["kind"] },
  k: { ref: string; tenantId: string | null; reason: string; certificateId?: string; agentId?: string; intentId?: string; purpose?: KeyRow["purpose"]; authoritySerial?: string },
): Promise<KeyRow | undefined> {
  return db.transaction(async (tx) => {
    const values = { state: "deleting" as const, deleteReason: k.reason, deletionRequestedAt: o.now };
    if (k.intentId) {
      // An orphan is "never referenced" as of the read that chose it. A certify on another
      // connection may be storing its certificate right now: lock the intent (the certify locks it
      // too before it commits, keys.ts lockKeyForUse), then look again in a new statement, which
      // sees what the certify committed while this waited.
      const [held] = await tx.select({ id: managedKeys.id }).from(managedKeys)
        .where(and(eq(managedKeys.id, k.intentId), inArray(managedKeys.state, ["creating", "created"]))).for("update");
      if (!held || (await isReferenced(tx, k.ref))) return undefined;
    }
    const [row] = k.intentId
      ? await tx.update(managedKeys).set(values).where(and(eq(managedKeys.id, k.intentId), inArray(managedKeys.state, ["creating", "created"]))).returning()
      : await tx.insert(managedKeys)
        .values({ purpose: k.purpose ?? "agent", backend: o.backend, label: "", keyRef: k.ref, tenantId: k.tenantId, createdAt: o.now, ...values })
        .onConflictDoUpdate({ target: managedKeys.keyRef, set: values, setWhere: inArray(managedKeys.state, ["creating", "created"]) })
        .returning();
    if (!row) return undefined;
    const tenantId = k.tenantId ?? (await operatorTenant(tx));
    if (tenantId) {
      await appendAudit(tx, tenantId, [{
        // The key of an agent's certificate is the agent's: its deletion is an entry of the agent's
        // chain (found by agent_id, in its evidence). Until 2026-12-07 it was in no agent's chain.
        kind: "key.deletion_scheduled", actor: o.actor, at: o.now, agentId: k.agentId ?? null,
        data: {
          key_ref: k.ref, reason: k.reason, certificate_id: k.certificateId ?? null,
          ...(k.authoritySerial ? { authority_serial_number: k.authoritySerial } : {}), pending_window_days: o.pendingWindowDays, safety_buffer_seconds: o.safetyBufferSeconds,
        },
      }]);
    }
    return row;
  });
}

/** The backend call for a row already in `deleting`; a failure leaves it there for the next run. */
async function destroy(db: Db, keys: KeyManager, o: TidyOptions, row: KeyRow, report: TidyReport): Promise<boolean> {
  if (!row.keyRef) return false;
  const res = await keys.scheduleDeletion(row.keyRef, { pendingWindowDays: o.pendingWindowDays });
  if (!res.ok) {
    await db.update(managedKeys).set({ attempts: sql`${managedKeys.attempts} + 1` }).where(eq(managedKeys.id, row.id));
    report.failed.push({ key_ref: row.keyRef, error: `${res.error.code}: ${res.error.message}` });
    return false;
  }
  await db.update(managedKeys).set({ state: "deleted", deletedAt: o.now, deletionDate: res.value.deletionDate }).where(eq(managedKeys.id, row.id));
  return true;
}

/** Whether a certificate, an authority or a pending CA request uses the key. */
async function isReferenced(db: Queryable, ref: string): Promise<boolean> {
  const [c] = await db.select({ id: certificates.id }).from(certificates).where(eq(certificates.keyRef, ref)).limit(1);
  const [a] = await db.select({ id: authorities.id }).from(authorities).where(eq(authorities.keyRef, ref)).limit(1);
  const [r] = await db.select({ id: caRequests.id }).from(caRequests).where(eq(caRequests.keyRef, ref)).limit(1);
  return Boolean(c || a || r);
}

async function operatorTenant(tx: Queryable): Promise<string | undefined> {
  const [t] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.isOperator, true));
  return t?.id;
}
