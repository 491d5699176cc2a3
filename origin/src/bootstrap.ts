import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { and, eq, isNull } from "drizzle-orm";
import { hashApiKey } from "./auth/api-keys.ts";
import { createApiKey } from "./auth/create-key.ts";
import type { Db, Queryable } from "./db/index.ts";
import { apiKeys, tenants } from "./db/schema.ts";
import { appendAudit } from "./audit/append.ts";

/** Where the one-time bootstrap token waits for `kakunin init`, inside KAKUNIN_DATA_DIR. */
export const INIT_TOKEN_FILE = "init.token";

/**
 * The bootstrap token's SHA-256 lives in `api_keys` (the table of hashed bearer credentials), so it
 * needs no migration and every origin sharing the database honours it. The row is created revoked:
 * authentication ignores revoked keys, so the token can never be used as an API key, only
 * exchanged once at POST /v1/init, which deletes the row.
 */
export const BOOTSTRAP_TOKEN_NAME = "bootstrap token (kakunin init)";

export interface BootstrapResult {
  tenantId: string;
  /** Set while tenant `default` has no admin key: the file holding the token for `kakunin init`. */
  initTokenFile?: string;
  /** The token itself, for in-process callers; main.ts only names the file. */
  initToken?: string;
}

type Tenant = typeof tenants.$inferSelect;

async function ensureDefaultTenant(tx: Queryable): Promise<Tenant> {
  const [found] = await tx.select().from(tenants).where(eq(tenants.name, "default"));
  if (found) return found;
  // ON CONFLICT, not a caught error: PostgreSQL aborts a transaction after any failed statement.
  const [created] = await tx.insert(tenants).values({ name: "default", isOperator: true }).onConflictDoNothing().returning();
  if (!created) return (await tx.select().from(tenants).where(eq(tenants.name, "default")))[0]!;
  await appendAudit(tx, created.id, [{
    kind: "tenant.created", actor: { type: "system", id: "bootstrap" }, at: created.createdAt, data: { tenant_id: created.id, name: "default", operator: true },
  }]);
  return created;
}

/** Locks the operator tenant's row: bootstrap and POST /v1/init on any origin take turns. */
export async function lockDefaultTenant(tx: Queryable): Promise<Tenant | undefined> {
  const [t] = await tx.select().from(tenants).where(eq(tenants.name, "default")).for("update");
  return t;
}

export async function hasActiveAdminKey(tx: Queryable, tenantId: string): Promise<boolean> {
  const rows = await tx.select({ id: apiKeys.id }).from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.role, "admin"), isNull(apiKeys.revokedAt))).limit(1);
  return rows.length > 0;
}

export async function pendingBootstrapHashes(tx: Queryable, tenantId: string): Promise<string[]> {
  const rows = await tx.select({ keyHash: apiKeys.keyHash }).from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.name, BOOTSTRAP_TOKEN_NAME)));
  return rows.map((r) => r.keyHash);
}

export async function deleteBootstrapTokens(tx: Queryable, tenantId: string): Promise<void> {
  await tx.delete(apiKeys).where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.name, BOOTSTRAP_TOKEN_NAME)));
}

function readTokenFile(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Written beside and renamed into place, so `kakunin init` never reads half a token. */
function writeTokenFile(file: string, token: string): void {
  mkdirSync(resolve(file, ".."), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * Dev bootstrap, like Vault's dev root token: the operator tenant `default` exists, and
 * KAKUNIN_ADMIN_KEY (when given) is one of its admin keys. Without the variable, and while the
 * tenant has no admin key, a one-time bootstrap token (256 bits) is issued for `kakunin init`, like
 * `vault operator init`: only its hash is stored, the token itself goes to `<dataDir>/init.token`
 * (mode 0600), readable by whoever runs the origin. A restart reuses a token still on disk; an
 * origin that finds none (another host sharing the database) issues a new one, which replaces it.
 */
export async function bootstrap(db: Db, adminKey: string | undefined, opts: { dataDir?: string } = {}): Promise<BootstrapResult> {
  const file = opts.dataDir === undefined ? undefined : resolve(opts.dataDir, INIT_TOKEN_FILE);
  const onDisk = file === undefined ? undefined : readTokenFile(file);
  const out = await db.transaction(async (tx): Promise<{ tenantId: string; initToken?: string; fresh?: boolean }> => {
    const tenantId = (await ensureDefaultTenant(tx)).id;
    await lockDefaultTenant(tx);
    if (adminKey) {
      // Before the key lookup: a leftover bootstrap row must never be revived as the admin key.
      await deleteBootstrapTokens(tx, tenantId);
      const [existing] = await tx.select({ id: apiKeys.id, tenantId: apiKeys.tenantId }).from(apiKeys)
        .where(eq(apiKeys.keyHash, hashApiKey(adminKey)));
      if (existing && existing.tenantId !== tenantId) throw new Error("KAKUNIN_ADMIN_KEY is already a key of another tenant");
      if (!existing) await createApiKey(tx, { tenantId, name: "bootstrap (KAKUNIN_ADMIN_KEY)", role: "admin", key: adminKey });
      else await tx.update(apiKeys).set({ revokedAt: null }).where(eq(apiKeys.id, existing.id));
      return { tenantId };
    }
    if (await hasActiveAdminKey(tx, tenantId)) {
      await deleteBootstrapTokens(tx, tenantId);
      return { tenantId };
    }
    const pending = await pendingBootstrapHashes(tx, tenantId);
    if (onDisk !== undefined && pending.includes(hashApiKey(onDisk))) return { tenantId, initToken: onDisk, fresh: false };
    const token = `kki_${randomBytes(32).toString("base64url")}`;
    await deleteBootstrapTokens(tx, tenantId);
    await tx.insert(apiKeys).values({
      tenantId, name: BOOTSTRAP_TOKEN_NAME, role: "admin", keyHash: hashApiKey(token), prefix: "kki_", revokedAt: new Date(),
    });
    return { tenantId, initToken: token, fresh: true };
  });
  if (out.initToken === undefined) {
    // A spent token stays on disk until the next start, so a repeated `kakunin init` hears
    // "already initialized" (409) instead of "no token file".
    if (file !== undefined && onDisk !== undefined) rmSync(file, { force: true });
    return { tenantId: out.tenantId };
  }
  // Written after the commit: a token on disk always has its hash in the database (or is stale,
  // and the next start replaces it).
  if (file !== undefined && out.fresh) writeTokenFile(file, out.initToken);
  return { tenantId: out.tenantId, initToken: out.initToken, initTokenFile: file };
}
