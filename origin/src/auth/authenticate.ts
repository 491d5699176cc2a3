import { and, eq, isNull } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { Db } from "../db/index.ts";
import { agentCredentials, apiKeys, tenants } from "../db/schema.ts";
import { ApiError, notFound } from "../http/api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { AGENT_CREDENTIAL_PREFIX, hashApiKey, type Role } from "./api-keys.ts";

/** A tenant API key's role, or `agent` for an agent credential (bound to one agent). */
export type CallerRole = Role | "agent";

/** Who is calling, resolved from `Authorization: Bearer <api key | agent credential>`. */
export interface Caller {
  /** The API key's id, or the agent credential's id. */
  keyId: string;
  role: CallerRole;
  tenantId: string;
  tenantName: string;
  isOperator: boolean;
  /** Set exactly when `role` is `agent`: the one agent this credential speaks for. */
  agentId: string | null;
}

export async function resolveApiKey(db: Db, key: string): Promise<Caller | undefined> {
  const [row] = await db
    .select({ keyId: apiKeys.id, role: apiKeys.role, tenantId: tenants.id, tenantName: tenants.name, isOperator: tenants.isOperator })
    .from(apiKeys)
    .innerJoin(tenants, eq(apiKeys.tenantId, tenants.id))
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt)));
  if (row) return { ...row, agentId: null };
  if (!key.startsWith(AGENT_CREDENTIAL_PREFIX)) return undefined;
  const [cred] = await db
    .select({ keyId: agentCredentials.id, agentId: agentCredentials.agentId, tenantId: tenants.id, tenantName: tenants.name })
    .from(agentCredentials)
    .innerJoin(tenants, eq(agentCredentials.tenantId, tenants.id))
    .where(and(eq(agentCredentials.keyHash, hashApiKey(key)), isNull(agentCredentials.revokedAt)));
  // An agent credential never carries the operator's powers, whatever its tenant.
  return cred ? { ...cred, role: "agent", isOperator: false } : undefined;
}

/**
 * 401 without a valid key; 403 when the caller's role is not among `roles`. The header is parsed
 * strictly: one scheme, one token, nothing else.
 *
 * An agent credential passes only where `roles` names `agent`, and only for its own agent: the
 * route's `:id` must be that agent, else 404 (to an agent credential no other agent exists, the
 * way nothing outside a tenant exists to its keys). Every other route answers it 403.
 */
export function requireRole(...roles: CallerRole[]): MiddlewareHandler<AppEnv> {
  return roleCheck(roles, false);
}

/**
 * `requireRole` for read-only routes that may take the caller from the services' CallerCache: a
 * revoked API key is still accepted here for at most KAKUNIN_AUTH_CACHE_MS after the revocation
 * committed (auth/caller-cache.ts). The role check itself is the same, on the same row.
 */
export function requireReadRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return roleCheck(roles, true);
}

async function cachedCaller(c: { var: AppEnv["Variables"] }, key: string): Promise<Caller | undefined> {
  const { callers, clock, db } = c.var.services;
  const hash = hashApiKey(key);
  const hit = callers.get(hash);
  if (hit) return hit;
  const readAt = clock.now().getTime();
  const caller = await resolveApiKey(db, key);
  if (caller) callers.put(hash, caller, readAt);
  return caller;
}

function roleCheck(roles: readonly CallerRole[], cacheable: boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const m = header ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim()) : null;
    if (!m) {
      throw new ApiError("unauthorized", header ? "Malformed Authorization header; expected 'Bearer <api key>'." : "Missing Authorization header.")
        .withHeader("www-authenticate", 'Bearer realm="kakunin"');
    }
    const caller = cacheable ? await cachedCaller(c, m[1]!) : await resolveApiKey(c.var.services.db, m[1]!);
    if (!caller) {
      throw new ApiError("unauthorized", "Unknown or revoked API key.")
        .withHeader("www-authenticate", 'Bearer realm="kakunin", error="invalid_token"');
    }
    if (caller.role === "agent") {
      if (!roles.includes("agent")) {
        throw new ApiError("forbidden", "An agent credential may only sign as its agent and mint its ingest tokens; this needs an API key.");
      }
      const id = c.req.param("id");
      // Any case names the same agent (the route's own validation lower-cases it).
      if (id?.toLowerCase() !== caller.agentId) throw notFound("agent", id ?? "(none)");
    } else if (!roles.includes(caller.role)) {
      throw new ApiError("forbidden", `Role '${caller.role}' may not do this; needs one of: ${roles.filter((r) => r !== "agent").join(", ")}.`);
    }
    c.set("caller", caller);
    await next();
  };
}
