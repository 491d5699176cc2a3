import { count, sql } from "drizzle-orm";
import { authorities, certificates } from "../src/db/schema.ts";
import type { Services } from "../src/services.ts";

/** What a backend should hold after tidy: one key per live certificate and one per CA (for test/ too). */
export async function expectedKeyCount(s: Services): Promise<{ live: number; ca: number }> {
  const now = s.clock.now();
  const [live] = await s.db.select({ n: count() }).from(certificates)
    .where(sql`(${certificates.status} = 'active' and ${certificates.expiresAt} > ${now}) or (${certificates.status} = 'renewed' and ${certificates.supersededAt} > ${now})`);
  const [ca] = await s.db.select({ n: count() }).from(authorities);
  return { live: live!.n, ca: ca!.n };
}
