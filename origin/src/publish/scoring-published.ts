import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../db/index.ts";
import { deadLetters, outbox } from "../db/schema.ts";

/**
 * Whether every change of the tenant's scoring has been acknowledged by the edge: false while an
 * outbox row for it is unpublished (the edge is down or refusing; the publisher keeps retrying),
 * and while the newest change is a dead letter: a record the edge refused (400/413/422, e.g. an
 * edge older than a feature the origin's scorer gained) is dead-lettered and its row counted as
 * handled, so the edge goes on scoring with the previous configuration until the letter is
 * replayed or a later change (each record carries the whole configuration) reaches it. Until
 * 2026-12-07 that read as published.
 */
export async function scoringPublished(db: Queryable, tenantId: string): Promise<boolean> {
  const [pending] = await db
    .select({ seq: outbox.seq })
    .from(outbox)
    .where(and(eq(outbox.kind, "scoring"), eq(outbox.subject, tenantId), isNull(outbox.deliveredAt)))
    .limit(1);
  if (pending) return false;
  const [newest] = await db
    .select({ seq: outbox.seq })
    .from(outbox)
    .where(and(eq(outbox.kind, "scoring"), eq(outbox.subject, tenantId)))
    .orderBy(desc(outbox.seq))
    .limit(1);
  // A letter is versioned by the newest row it stood for (publisher.ts); one at or past the newest
  // row is what the edge last refused. The newest row is never pruned (refresher.ts): until
  // 2026-12-07 it was, and then any unreplayed letter counted, a superseded one too, for good.
  const [refused] = await db
    .select({ id: deadLetters.id })
    .from(deadLetters)
    .where(
      and(
        eq(deadLetters.source, "origin"),
        eq(deadLetters.kind, "publish"),
        eq(deadLetters.ref, `scoring:${tenantId}`),
        isNull(deadLetters.replayedAt),
        sql`coalesce((${deadLetters.payload}::jsonb ->> 'v')::bigint, 0) >= ${newest?.seq ?? 0}`,
      ),
    )
    .limit(1);
  return refused === undefined;
}
