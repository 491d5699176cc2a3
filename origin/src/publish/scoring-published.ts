import { and, eq, isNull } from "drizzle-orm";
import type { Queryable } from "../db/index.ts";
import { outbox } from "../db/schema.ts";

/**
 * Whether every change of the tenant's scoring has been acknowledged by the edge: false while an
 * outbox row for it is unpublished (the edge is down or refusing; the publisher keeps retrying).
 */
export async function scoringPublished(db: Queryable, tenantId: string): Promise<boolean> {
  const [pending] = await db
    .select({ seq: outbox.seq })
    .from(outbox)
    .where(and(eq(outbox.kind, "scoring"), eq(outbox.subject, tenantId), isNull(outbox.deliveredAt)))
    .limit(1);
  return pending === undefined;
}
