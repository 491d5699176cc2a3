import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq, gte, lt } from "drizzle-orm";
import { toHex } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { AUDIT_KINDS } from "../audit/types.ts";
import { auditEntries } from "../db/schema.ts";
import { invalidQueryField } from "../http/api-error.ts";
import { bearer, errorResponses, uuidInput } from "./openapi.ts";
import { queryInt } from "./query-int.ts";

export const auditEntryView = z.object({
  index: z.number().int(),
  kind: z.string(),
  agent_id: z.uuid().nullable(),
  leaf_hash: z.string(),
  /** The canonical JSON text exactly as hashed (RFC 8785); `entry` is the same, parsed. */
  canonical: z.string(),
  entry: z.record(z.string(), z.unknown()),
});

const query = z.object({
  /** First index (inclusive), 0 when absent. */
  from: queryInt(0).optional(),
  /**
   * The previous page's `next_cursor` (the next index), as every list takes it: a client paging by
   * the `{data, next_cursor}` convention sent `cursor` and, when only `from` was read, got page one again forever.
   */
  cursor: z.union([z.literal(""), queryInt(0)]).optional(), // empty: the first page, as on every list (cursor.ts)
  to: queryInt(0).optional(),
  agent_id: uuidInput().optional(),
  /** A kind the origin writes: a mistyped one answered an empty list, read as "never happened". */
  kind: z.enum(AUDIT_KINDS).optional(),
  limit: queryInt(1, 1000).default(100),
});

export const route = createRoute({
  method: "get",
  path: "/v1/audit/entries",
  summary: "Audit log entries in index order; filter by index range, agent and kind",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  request: { query },
  responses: {
    200: { description: "Entries", content: { "application/json": { schema: z.object({ data: z.array(auditEntryView), next_cursor: z.string().nullable() }) } } },
    ...errorResponses(422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const cursor = q.cursor === "" ? undefined : q.cursor;
    if (cursor !== undefined && q.from !== undefined && cursor !== q.from) {
      throw invalidQueryField("cursor", "differs from `from`; both name the first index, send one");
    }
    const from = cursor ?? q.from ?? 0;
    // A reversed range is a client's mistake, and its empty answer would read as "nothing happened"
    // (as the evidence route's from ≥ to is); to = from is the empty half-open range, and the end of
    // paging inside one.
    if (q.to !== undefined && q.to < from) {
      throw invalidQueryField("to", `is below the first index (${from}); \`to\` is exclusive and must be ≥ \`from\``);
    }
    const conds = [eq(auditEntries.tenantId, c.var.caller.tenantId), gte(auditEntries.idx, from)];
    if (q.to !== undefined) conds.push(lt(auditEntries.idx, q.to));
    if (q.agent_id) conds.push(eq(auditEntries.agentId, q.agent_id));
    if (q.kind) conds.push(eq(auditEntries.kind, q.kind));
    const rows = await c.var.services.db.select().from(auditEntries).where(and(...conds)).orderBy(asc(auditEntries.idx)).limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const next = rows.length > q.limit ? String(page[page.length - 1]!.idx + 1) : null;
    return c.json({
      data: page.map((r) => ({
        index: r.idx, kind: r.kind, agent_id: r.agentId, leaf_hash: toHex(r.leafHash), canonical: r.canonical,
        entry: JSON.parse(r.canonical) as Record<string, unknown>,
      })),
      // The cursor is the next `from` (pass it back as `cursor` or `from`).
      next_cursor: next,
    }, 200);
  });
}
