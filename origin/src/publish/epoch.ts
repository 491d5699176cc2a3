import { randomUUID } from "node:crypto";
import { eq, gt } from "drizzle-orm";
import type { OriginEpoch } from "@kakunin/shared";
import type { Db, Queryable } from "../db/index.ts";
import { agents, authorities, certificates, originEpoch, tenants } from "../db/schema.ts";
import { enqueue, type OutboxKind } from "./outbox.ts";

/** The database's epoch; the first call on a new database starts epoch 1. */
export async function currentEpoch(db: Queryable): Promise<OriginEpoch> {
  const [row] = await db.select().from(originEpoch).where(eq(originEpoch.id, 1));
  if (row) return { n: row.n, id: row.epochId };
  await db.insert(originEpoch).values({ id: 1, n: 1, epochId: randomUUID(), reason: "first start" }).onConflictDoNothing();
  const [created] = await db.select().from(originEpoch).where(eq(originEpoch.id, 1));
  return { n: created!.n, id: created!.epochId };
}

/**
 * Starts the epoch after `seen` (numbered above `atLeast`) and queues every subject for
 * re-publication, in one transaction. Compare-and-set on the epoch row: when several origins
 * detect the same restore, one starts the new epoch and the others find it already started.
 */
export async function beginNextEpoch(db: Db, seen: OriginEpoch, atLeast: number, reason: string, now: Date): Promise<{ epoch: OriginEpoch; started: boolean }> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(originEpoch).where(eq(originEpoch.id, 1)).for("update");
    if (row && (row.n !== seen.n || row.epochId !== seen.id)) return { epoch: { n: row.n, id: row.epochId }, started: false };
    const next = { n: Math.max(seen.n, atLeast) + 1, id: randomUUID() };
    await tx.insert(originEpoch).values({ id: 1, n: next.n, epochId: next.id, reason, startedAt: now })
      .onConflictDoUpdate({ target: originEpoch.id, set: { n: next.n, epochId: next.id, reason, startedAt: now } });
    await enqueue(tx, await everySubject(tx, now), { background: true });
    return { epoch: next, started: true };
  });
}

/**
 * What a resync re-publishes: every certificate not expired over a day ago, every agent, every CRL,
 * every tenant's scoring overrides (review feedback is one-shot and idempotent: not re-sent).
 */
async function everySubject(tx: Queryable, now: Date): Promise<{ kind: OutboxKind; subject: string }[]> {
  const certs = await tx.select({ s: certificates.serialNumber }).from(certificates).where(gt(certificates.expiresAt, new Date(now.getTime() - 86_400_000)));
  const agentRows = await tx.select({ s: agents.id }).from(agents);
  const cas = await tx.select({ s: authorities.tenantId }).from(authorities).where(eq(authorities.kind, "issuing"));
  const tenantRows = await tx.select({ s: tenants.id }).from(tenants);
  return [
    ...certs.map((c) => ({ kind: "cert" as const, subject: c.s })),
    ...agentRows.map((a) => ({ kind: "agent" as const, subject: a.s })),
    ...cas.flatMap((c) => (c.s ? [{ kind: "crl" as const, subject: c.s }] : [])),
    ...tenantRows.map((t) => ({ kind: "scoring" as const, subject: t.s })),
  ];
}
