/**
 * A resync after a database restore queues every subject of the deployment in one transaction
 * (beginNextEpoch). enqueue wrote them in one statement, two bound parameters each: past 32,767
 * subjects the statement passed PostgreSQL's 65,535-parameter limit, the transaction rolled back,
 * the epoch never advanced, and the retry failed the same way for good, so no revocation reached
 * the edge again.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { count, eq } from "drizzle-orm";
import { enqueue } from "../src/publish/outbox.ts";
import { outbox } from "../src/db/schema.ts";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

let o: TestOrigin;
beforeAll(async () => {
  o = await startTestOrigin("pglite");
});
afterAll(async () => {
  await o.close();
});

it("40,000 subjects queue in one transaction; queued again, a subject gets a second outbox row", async () => {
  const items = Array.from({ length: 40_000 }, (_, i) => ({ kind: "cert" as const, subject: i.toString(16).padStart(32, "0") }));
  await o.services.db.transaction((tx) => enqueue(tx, items));
  const [queued] = await o.services.db.select({ n: count() }).from(outbox).where(eq(outbox.kind, "cert"));
  expect(queued!.n).toBeGreaterThanOrEqual(40_000);
  // Queued again (a second resync), every subject gets a newer version than before.
  await o.services.db.transaction((tx) => enqueue(tx, items.slice(0, 10)));
  const [again] = await o.services.db.select({ n: count() }).from(outbox).where(eq(outbox.subject, items[0]!.subject));
  expect(again!.n).toBe(2);
}, 120_000);
