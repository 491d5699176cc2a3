import type { Queryable } from "../db/index.ts";
import { apiKeys } from "../db/schema.ts";
import { generateApiKey, hashApiKey, keyPrefix, type Role } from "./api-keys.ts";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** Creates an API key; the plaintext is returned once and never stored. */
export async function createApiKey(
  db: Queryable,
  input: { tenantId: string; name: string; role: Role; key?: string; bootstrap?: ApiKeyRow["bootstrap"] },
): Promise<{ row: ApiKeyRow; key: string }> {
  const key = input.key ?? generateApiKey();
  const [row] = await db.insert(apiKeys).values({
    tenantId: input.tenantId, name: input.name, role: input.role, keyHash: hashApiKey(key), prefix: keyPrefix(key),
    bootstrap: input.bootstrap ?? null,
  }).returning();
  return { row: row!, key };
}
