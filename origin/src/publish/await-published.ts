import { and, eq, isNull, type SQL } from "drizzle-orm";
import { outbox } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { OutboxKind } from "./outbox.ts";

/** How long a caller waits for the edge to acknowledge a subject before answering anyway. */
export const AWAIT_PUBLISHED_MS = 2000;
const POLL_MS = 20;

/**
 * Waits, at most `timeoutMs`, until the edge has acknowledged every committed change of one
 * subject (no undelivered outbox row left for it), waking the publisher first. True when it has,
 * false on timeout, when the last publish found the edge unreachable, or when this origin
 * publishes nothing (no publisher: tests, KAKUNIN_PUBLISH=off).
 * Never an error: the publisher keeps retrying whatever is still pending after the caller answered.
 */
export async function awaitPublished(s: Services, kind: OutboxKind, subject: string, timeoutMs = AWAIT_PUBLISHED_MS): Promise<boolean> {
  return (await awaitDelivered(s, [eq(outbox.kind, kind), eq(outbox.subject, subject)], timeoutMs)) === "published";
}

/** How a wait for the edge's acknowledgement ended. */
export type PublishWait = "published" | "unreachable" | "timeout" | "off";

/**
 * Waits, at most `timeoutMs`, until the edge has acknowledged every pending change of one kind
 * (every tenant's CRL, say), as awaitPublished does for one subject; says why it stopped waiting.
 */
export async function awaitKindPublished(s: Services, kind: OutboxKind, timeoutMs: number): Promise<PublishWait> {
  return awaitDelivered(s, [eq(outbox.kind, kind)], timeoutMs);
}

async function awaitDelivered(s: Services, rows: SQL[], timeoutMs: number): Promise<PublishWait> {
  if (!s.publisher) return "off";
  s.publisher.kick();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [pending] = await s.db
      .select({ seq: outbox.seq })
      .from(outbox)
      .where(and(...rows, isNull(outbox.deliveredAt)))
      .limit(1);
    if (!pending) return "published";
    // An edge that cannot be reached will not acknowledge within the bound: answer now (the
    // publisher delivers when it is back), rather than add the whole wait to every call meanwhile.
    if (s.publisher.edgeUnreachable) return "unreachable";
    if (Date.now() >= deadline) return "timeout";
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
