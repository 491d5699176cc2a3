import type { Db } from "../db/index.ts";
import { countOpenReviews, openReviews, type OpenReview, type QueueCursor } from "../lifecycle/review-queue.ts";

export type QueueItem = Omit<OpenReview, "eventIds">;

/** One page of the open review queue, exactly as GET /v1/reviews reads it (lifecycle/review-queue.ts), and the queue's length. */
export async function reviewQueue(
  db: Db,
  tenantId: string,
  limit: number,
  after?: QueueCursor,
): Promise<{ items: QueueItem[]; next?: QueueCursor; total: number }> {
  const [page, total] = await Promise.all([openReviews(db, tenantId, limit, after), countOpenReviews(db, tenantId)]);
  return { ...page, total };
}
