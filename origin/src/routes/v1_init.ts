import { timingSafeEqual } from "node:crypto";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { appendAudit } from "../audit/append.ts";
import { SYSTEM } from "../audit/types.ts";
import { hashApiKey } from "../auth/api-keys.ts";
import { createApiKey } from "../auth/create-key.ts";
import type { Queryable } from "../db/index.ts";
import { tenants } from "../db/schema.ts";
import { deleteBootstrapTokens, hasActiveAdminKey, lockDefaultTenant, pendingBootstrapHashes } from "../bootstrap.ts";
import { ApiError } from "../http/api-error.ts";
import { dataResponse, errorResponses, jsonBody } from "./openapi.ts";

const initRequest = z.strictObject({
  /** The contents of `<KAKUNIN_DATA_DIR>/init.token`, written by the origin's first start. */
  bootstrap_token: z.string().min(1).max(512),
});

export const route = createRoute({
  method: "post",
  path: "/v1/init",
  summary: "Exchange the one-time bootstrap token for the first admin API key of tenant `default` (`kakunin init`)",
  request: { body: jsonBody(initRequest) },
  responses: {
    201: dataResponse(z.object({ api_key: z.string(), tenant_id: z.uuid(), role: z.literal("admin") }), "The first admin API key (shown once)"),
    ...errorResponses(409, 422),
  },
});

/** Both sides are SHA-256 hex, so lengths match and the comparison time reveals nothing. */
function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The answers a call without the right token gets: 401 with no tenant or a wrong token, 409 once an
 * admin key exists. Run twice: without a lock first, then again under the operator tenant's row lock.
 */
async function refuseUnlessToken(q: Queryable, tenant: { id: string } | undefined, given: string): Promise<string> {
  if (!tenant) throw new ApiError("unauthorized", "No bootstrap token has been issued.");
  // Every pending hash is compared (normally exactly one), so timing does not tell them apart.
  // The tokens are read BEFORE the admin keys: the exchange deletes the token and creates the key
  // in one commit, so a token read that misses the token is followed by a key read that sees the
  // key (409). In the other order, without the lock, a call with the right token racing the
  // exchange read "no admin key" before the commit and "no token" after it: 401 instead of 409
  // (origin/test/init.test.ts, concurrent inits on PostgreSQL, seen once in CI).
  const matches = (await pendingBootstrapHashes(q, tenant.id)).map((h) => sameHash(h, given));
  if (await hasActiveAdminKey(q, tenant.id)) {
    throw new ApiError("already-initialized", "Tenant 'default' already has an admin API key; ask its holder for a key (POST /v1/api-keys).");
  }
  if (!matches.includes(true)) throw new ApiError("unauthorized", "Invalid bootstrap token.");
  return tenant.id;
}

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const given = hashApiKey(c.req.valid("json").bootstrap_token);
    // Anyone may call this route, so a caller without the token is answered without a lock: the
    // row lock below conflicts with the key-share lock every insert of the operator tenant's rows
    // takes, and each call waiting for it holds a pool connection. Only the right token goes on.
    const [unlocked] = await s.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.name, "default"));
    await refuseUnlessToken(s.db, unlocked, given);
    // One transaction holding the operator tenant's row lock: of two concurrent calls with the
    // right token, the second waits, then finds the admin key the first created (409).
    const out = await s.db.transaction(async (tx) => {
      const tenantId = await refuseUnlessToken(tx, await lockDefaultTenant(tx), given);
      await deleteBootstrapTokens(tx, tenantId, "exchanged at POST /v1/init");
      const { key, row } = await createApiKey(tx, { tenantId, name: "initial admin (kakunin init)", role: "admin" });
      await appendAudit(tx, tenantId, [{
        kind: "api_key.created", actor: SYSTEM("kakunin-init"), at: row.createdAt,
        data: { api_key_id: row.id, name: row.name, role: row.role, prefix: row.prefix, via: "bootstrap token" },
      }]);
      return { api_key: key, tenant_id: tenantId, role: "admin" as const };
    });
    return c.json({ data: out }, 201);
  });
}
