import { sql } from "drizzle-orm";
import { rowsOfResult, type Queryable } from "../db/index.ts";
import { outbox } from "../db/schema.ts";

export type OutboxKind = "cert" | "agent" | "crl" | "scoring" | "feedback";

/**
 * Records, inside the caller's transaction, that the edge must learn the new state of these
 * subjects. Committed together with the change or not at all: nothing is published that did not
 * happen, and nothing that happened is forgotten.
 *
 * Versions: each subject's `publish_subjects` row is locked first (an upsert, in one order so two
 * writers cannot deadlock), and only then is the version drawn from the outbox sequence. A second
 * writer of the same subject (a revocation, the refresher, another origin) waits for the first to
 * commit and draws a higher number, so versions of a subject increase in commit order and a
 * record read after version v committed carries every change numbered at or below v.
 */
export async function enqueue(tx: Queryable, items: { kind: OutboxKind; subject: string }[], opts: EnqueueOptions = {}): Promise<void> {
  const unique = [...new Map(items.map((i) => [`${i.kind}\u0000${i.subject}`, i])).values()]
    .sort((a, b) => (a.kind === b.kind ? (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0) : a.kind < b.kind ? -1 : 1));
  // In chunks, in the same sorted order (locks are still taken in one order): a statement binds at
  // most 65,535 parameters, and a resync queues every subject of the deployment at once.
  for (let i = 0; i < unique.length; i += ENQUEUE_CHUNK) await enqueueChunk(tx, unique.slice(i, i + ENQUEUE_CHUNK), opts.background === true);
}

export interface EnqueueOptions {
  /**
   * Bulk upkeep (refreshing OCSP and CRLs, a resync, re-signing owed after a KMS outage), published
   * after every pending change. Changes someone made (a revocation, a suspension, an issuance) are
   * the default: a caller that forgets the option is published early, never late.
   */
  background?: boolean;
}

/** Subjects per statement: 2 parameters each in the upsert, 3 each in the outbox insert. */
const ENQUEUE_CHUNK = 5000;

async function enqueueChunk(tx: Queryable, unique: { kind: OutboxKind; subject: string }[], background: boolean): Promise<void> {
  // DO UPDATE runs after the row lock is granted, so its nextval is drawn under the lock; a new
  // subject's VALUES nextval has no earlier state to race with.
  const seq = sql.raw(`nextval(pg_get_serial_sequence('outbox', 'seq'))`);
  const values = sql.join(unique.map((i) => sql`(${i.kind}, ${i.subject}, ${seq})`), sql`, `);
  const result = await tx.execute(sql`
    insert into publish_subjects (kind, subject, v) values ${values}
    on conflict (kind, subject) do update set v = ${seq}
    returning kind, subject, v`);
  const drawn = rowsOfResult<{ kind: OutboxKind; subject: string; v: string | number }>(result);
  await tx.insert(outbox).values(drawn.map((r) => ({ seq: Number(r.v), kind: r.kind, subject: r.subject, background })));
}

/** The highest version this database has drawn (its outbox sequence), for comparing with the edge. */
export async function sequenceHighWater(db: Queryable): Promise<number> {
  const result = await db.execute(sql`select last_value from outbox_seq_seq`);
  const [row] = rowsOfResult<{ last_value: string | number }>(result);
  return Number(row?.last_value ?? 0);
}
