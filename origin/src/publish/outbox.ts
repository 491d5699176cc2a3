import type { Queryable } from "../db/index.ts";
import { outbox } from "../db/schema.ts";

export type OutboxKind = "cert" | "agent" | "crl";

/**
 * Records, inside the caller's transaction, that the edge must learn the new state of these
 * subjects. Committed together with the change or not at all: nothing is published that did not
 * happen, and nothing that happened is forgotten.
 */
export async function enqueue(tx: Queryable, items: { kind: OutboxKind; subject: string }[]): Promise<void> {
  if (items.length === 0) return;
  await tx.insert(outbox).values(items);
}
