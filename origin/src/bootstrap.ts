import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { and, eq, isNull, ne } from "drizzle-orm";
import { hashApiKey } from "./auth/api-keys.ts";
import { createApiKey } from "./auth/create-key.ts";
import type { Db, Queryable } from "./db/index.ts";
import { apiKeys, tenants } from "./db/schema.ts";
import { appendAudit } from "./audit/append.ts";
import { SYSTEM } from "./audit/types.ts";
import { republishMintedFor } from "./lifecycle/revoke-api-key.ts";

/** Where the one-time bootstrap token waits for `kakunin init`, inside KAKUNIN_DATA_DIR. */
export const INIT_TOKEN_FILE = "init.token";

/**
 * The bootstrap token's SHA-256 lives in `api_keys` (the table of hashed bearer credentials), so
 * every origin sharing the database honours it. The row is created revoked and flagged
 * `bootstrap = 'init_token'`: authentication ignores revoked keys, so the token can never be used
 * as an API key, only exchanged once at POST /v1/init, which deletes the row. Rows are found by
 * that flag, never by their display name (any admin may name a key anything).
 */
export const BOOTSTRAP_TOKEN_NAME = "bootstrap token (kakunin init)";
const ENV_KEY_NAME = "bootstrap (KAKUNIN_ADMIN_KEY)";
const BOOT_ACTOR = SYSTEM("bootstrap");

export interface BootstrapResult {
  tenantId: string;
  /** Set while tenant `default` has no admin key: the file holding the token for `kakunin init`. */
  initTokenFile?: string;
  /** The token itself, for in-process callers; main.ts only names the file. */
  initToken?: string;
  /** KAKUNIN_ADMIN_KEY names a key that was revoked: it stays revoked (main.ts warns). */
  adminKeyRevoked?: boolean;
  /** Ids of earlier KAKUNIN_ADMIN_KEY keys this start revoked because the variable changed (main.ts warns). */
  replacedAdminKeys?: string[];
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
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.bootstrap, "init_token")));
  return rows.map((r) => r.keyHash);
}

/** Deletes the pending `kakunin init` token(s), each deletion audited with why. */
export async function deleteBootstrapTokens(tx: Queryable, tenantId: string, reason: string): Promise<void> {
  const gone = await tx.delete(apiKeys).where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.bootstrap, "init_token")))
    .returning({ id: apiKeys.id, prefix: apiKeys.prefix });
  if (gone.length === 0) return;
  await appendAudit(tx, tenantId, gone.map((g) => ({
    kind: "bootstrap.token_discarded" as const, actor: BOOT_ACTOR, at: new Date(), data: { api_key_id: g.id, reason },
  })));
}

/**
 * KAKUNIN_ADMIN_KEY becomes an admin key of the operator tenant, once, audited. A key already
 * present is left exactly as it is: a revoked one stays revoked (an env variable must never undo
 * a revocation an admin made through the API, audited, perhaps because the key leaked).
 *
 * The variable names *the* bootstrap key, like a Vault dev root token: changing it is a rotation,
 * so earlier values still active (rows flagged `env_admin_key`) are revoked, audited with why.
 * Without that an operator who rotates a leaked key by changing the variable would leave the
 * leaked one working, with nothing saying so. Not when the new value is itself revoked: that start
 * keeps the current key, so a stale value on one origin of several cannot lock every admin out.
 */
async function ensureEnvAdminKey(tx: Queryable, tenantId: string, adminKey: string): Promise<{ revoked: boolean; replaced: string[] }> {
  const hash = hashApiKey(adminKey);
  const [existing] = await tx.select({ id: apiKeys.id, tenantId: apiKeys.tenantId, revokedAt: apiKeys.revokedAt }).from(apiKeys)
    .where(eq(apiKeys.keyHash, hash));
  if (existing && existing.tenantId !== tenantId) throw new Error("KAKUNIN_ADMIN_KEY is already a key of another tenant");
  if (existing?.revokedAt) return { revoked: true, replaced: [] };
  if (!existing) {
    const { row } = await createApiKey(tx, { tenantId, name: ENV_KEY_NAME, role: "admin", key: adminKey, bootstrap: "env_admin_key" });
    // No `prefix`: this key is the operator's choice (16 characters at least), and its first 10
    // would be most of it, in a WORM log every auditor reads. The id names the key.
    await appendAudit(tx, tenantId, [{
      kind: "api_key.created", actor: BOOT_ACTOR, at: row.createdAt,
      data: { api_key_id: row.id, name: row.name, role: row.role, via: "KAKUNIN_ADMIN_KEY" },
    }]);
  }
  const at = new Date();
  const old = await tx.update(apiKeys).set({ revokedAt: at })
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.bootstrap, "env_admin_key"), isNull(apiKeys.revokedAt), ne(apiKeys.keyHash, hash)))
    .returning({ id: apiKeys.id, name: apiKeys.name, role: apiKeys.role });
  if (old.length > 0) {
    await appendAudit(tx, tenantId, old.map((k) => ({
      kind: "api_key.revoked" as const, actor: BOOT_ACTOR, at, data: { api_key_id: k.id, name: k.name, role: k.role, reason: "KAKUNIN_ADMIN_KEY changed" },
    })));
    // Like DELETE /v1/api-keys/:id: the ingest tokens the old key minted die with it at the edge.
    for (const k of old) await republishMintedFor(tx, k.id, at);
  }
  return { revoked: false, replaced: old.map((k) => k.id) };
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
  const out = await db.transaction(async (tx): Promise<{ tenantId: string; initToken?: string; fresh?: boolean; adminKeyRevoked?: boolean; replacedAdminKeys?: string[] }> => {
    const tenantId = (await ensureDefaultTenant(tx)).id;
    await lockDefaultTenant(tx);
    if (adminKey) {
      // Before the key lookup: a leftover bootstrap token must never be revived as the admin key.
      await deleteBootstrapTokens(tx, tenantId, "KAKUNIN_ADMIN_KEY");
      const { revoked, replaced } = await ensureEnvAdminKey(tx, tenantId, adminKey);
      return { tenantId, ...(revoked ? { adminKeyRevoked: true } : {}), ...(replaced.length ? { replacedAdminKeys: replaced } : {}) };
    }
    if (await hasActiveAdminKey(tx, tenantId)) {
      await deleteBootstrapTokens(tx, tenantId, "tenant has an admin key");
      return { tenantId };
    }
    const pending = await pendingBootstrapHashes(tx, tenantId);
    if (onDisk !== undefined && pending.includes(hashApiKey(onDisk))) return { tenantId, initToken: onDisk, fresh: false };
    const token = `kki_${randomBytes(32).toString("base64url")}`;
    await deleteBootstrapTokens(tx, tenantId, "replaced by a new token (the previous one is not on this host)");
    const [row] = await tx.insert(apiKeys).values({
      tenantId, name: BOOTSTRAP_TOKEN_NAME, role: "admin", keyHash: hashApiKey(token), prefix: "kki_", revokedAt: new Date(), bootstrap: "init_token",
    }).returning();
    await appendAudit(tx, tenantId, [{ kind: "bootstrap.token_issued", actor: BOOT_ACTOR, at: row!.createdAt, data: { api_key_id: row!.id } }]);
    return { tenantId, initToken: token, fresh: true };
  });
  if (out.initToken === undefined) {
    // A spent token stays on disk until the next start, so a repeated `kakunin init` hears
    // "already initialized" (409) instead of "no token file".
    if (file !== undefined && onDisk !== undefined) rmSync(file, { force: true });
    return {
      tenantId: out.tenantId,
      ...(out.adminKeyRevoked ? { adminKeyRevoked: true } : {}),
      ...(out.replacedAdminKeys ? { replacedAdminKeys: out.replacedAdminKeys } : {}),
    };
  }
  // Written after the commit: a token on disk always has its hash in the database (or is stale,
  // and the next start replaces it).
  if (file !== undefined && out.fresh) writeTokenFile(file, out.initToken);
  return { tenantId: out.tenantId, initToken: out.initToken, initTokenFile: file };
}
