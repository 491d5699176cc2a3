import { and, eq, isNull } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { Db } from "../db/index.ts";
import { apiKeys, tenants } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { hashApiKey, type Role } from "./api-keys.ts";

/** Who is calling, resolved from `Authorization: Bearer <api key>`. */
export interface Caller {
  keyId: string;
  role: Role;
  tenantId: string;
  tenantName: string;
  isOperator: boolean;
}

export async function resolveApiKey(db: Db, key: string): Promise<Caller | undefined> {
  const [row] = await db
    .select({ keyId: apiKeys.id, role: apiKeys.role, tenantId: tenants.id, tenantName: tenants.name, isOperator: tenants.isOperator })
    .from(apiKeys)
    .innerJoin(tenants, eq(apiKeys.tenantId, tenants.id))
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt)));
  return row;
}

/**
 * 401 without a valid key; 403 when the key's role is not among `roles`. The header is parsed
 * strictly: one scheme, one token, nothing else.
 */
export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const m = header ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim()) : null;
    if (!m) {
      throw new ApiError("unauthorized", header ? "Malformed Authorization header; expected 'Bearer <api key>'." : "Missing Authorization header.")
        .withHeader("www-authenticate", 'Bearer realm="kakunin"');
    }
    const caller = await resolveApiKey(c.var.services.db, m[1]!);
    if (!caller) {
      throw new ApiError("unauthorized", "Unknown or revoked API key.")
        .withHeader("www-authenticate", 'Bearer realm="kakunin", error="invalid_token"');
    }
    if (!roles.includes(caller.role)) {
      throw new ApiError("forbidden", `Role '${caller.role}' may not do this; needs one of: ${roles.join(", ")}.`);
    }
    c.set("caller", caller);
    await next();
  };
}
