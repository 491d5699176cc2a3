import { count, eq, sql } from "drizzle-orm";
import { authorities, certificates, managedKeys, outbox } from "../src/db/schema.ts";
import type { Services } from "../src/services.ts";

/**
 * What a backend should hold after tidy: one key per live certificate and one per CA whose key was
 * not deleted (a retired issuing CA's key goes once its last certificate expired). For test/ too.
 */
export async function expectedKeyCount(s: Services): Promise<{ live: number; ca: number }> {
  const now = s.clock.now();
  const [live] = await s.db.select({ n: count() }).from(certificates)
    .where(sql`(${certificates.status} = 'active' and ${certificates.expiresAt} > ${now}) or (${certificates.status} = 'renewed' and ${certificates.supersededAt} > ${now})`);
  const [ca] = await s.db.select({ n: count() }).from(authorities)
    .where(sql`not exists (select 1 from ${managedKeys} where ${managedKeys.keyRef} = ${authorities.keyRef} and ${managedKeys.state} in ('deleting', 'deleted'))`);
  return { live: live!.n, ca: ca!.n };
}

/** What the publisher records when the edge acknowledges: every queued CRL publication delivered. */
export async function markCrlsDelivered(s: Services): Promise<void> {
  await s.db.update(outbox).set({ deliveredAt: s.clock.now() }).where(eq(outbox.kind, "crl"));
}

/** The state of the managed key of an authority (by its serial), e.g. a retired issuing CA's. */
export async function authorityKeyState(s: Services, serialNumber: string): Promise<string | undefined> {
  const [row] = await s.db.select({ state: managedKeys.state }).from(managedKeys)
    .innerJoin(authorities, eq(authorities.keyRef, managedKeys.keyRef))
    .where(eq(authorities.serialNumber, serialNumber));
  return row?.state;
}
