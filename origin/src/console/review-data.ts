import type { Db } from "../db/index.ts";
import { openReviews, type OpenReview } from "../lifecycle/review-queue.ts";

export type QueueItem = Omit<OpenReview, "eventIds">;

/** The open review queue, exactly as GET /v1/reviews reads it (lifecycle/review-queue.ts). */
export async function reviewQueue(db: Db, tenantId: string, limit: number): Promise<QueueItem[]> {
  return openReviews(db, tenantId, limit);
}
