import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { consistencyProof, inclusionProof, rootHash, toHex } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { withPrefetchedNodes } from "../audit/proof-reader.ts";
import { requireRole } from "../auth/authenticate.ts";
import { auditHeads } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

async function logSize(c: { var: AppEnv["Variables"] }): Promise<number> {
  const [h] = await c.var.services.db.select({ size: auditHeads.size }).from(auditHeads).where(eq(auditHeads.tenantId, c.var.caller.tenantId));
  return h?.size ?? 0;
}

const inclusionQuery = z.object({
  entry: z.coerce.number().int().min(0),
  /** Tree size the proof is for; default: the current size (match it to a signed tree head). */
  tree_size: z.coerce.number().int().min(1).optional(),
});

export const inclusionRoute = createRoute({
  method: "get",
  path: "/v1/audit/proofs/inclusion",
  summary: "RFC 9162 inclusion proof of entry `entry` in the tree of size `tree_size`",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  request: { query: inclusionQuery },
  responses: {
    200: dataResponse(z.object({ leaf_index: z.number(), tree_size: z.number(), leaf_hash: z.string(), root_hash: z.string(), audit_path: z.array(z.string()) }), "Proof"),
    ...errorResponses(404, 422),
  },
});

const consistencyQuery = z.object({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) });

export const consistencyRoute = createRoute({
  method: "get",
  path: "/v1/audit/proofs/consistency",
  summary: "RFC 9162 consistency proof between tree sizes `from` and `to`",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  request: { query: consistencyQuery },
  responses: {
    200: dataResponse(z.object({ first: z.number(), second: z.number(), first_root: z.string(), second_root: z.string(), proof: z.array(z.string()) }), "Proof"),
    ...errorResponses(422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(inclusionRoute, async (c) => {
    const q = c.req.valid("query");
    const size = await logSize(c);
    const treeSize = q.tree_size ?? size;
    if (treeSize > size) throw new ApiError("validation-failed", "tree_size is beyond the log", { errors: [{ path: "tree_size", message: `the log has ${size} entries` }] });
    if (q.entry >= treeSize) throw new ApiError("not-found", `entry ${q.entry} is not in a tree of size ${treeSize}`);
    // Leaf (the level-0 node), path and root in one round trip (withPrefetchedNodes).
    const { leaf, path, root } = await withPrefetchedNodes(c.var.services.db, c.var.caller.tenantId, async (reader) => ({
      leaf: await reader.get(0, q.entry), path: await inclusionProof(q.entry, treeSize, reader), root: await rootHash(treeSize, reader),
    }));
    return c.json({ data: {
      leaf_index: q.entry, tree_size: treeSize, leaf_hash: toHex(leaf), root_hash: toHex(root), audit_path: path.map(toHex),
    } }, 200);
  });
  app.openapi(consistencyRoute, async (c) => {
    const q = c.req.valid("query");
    const size = await logSize(c);
    if (q.from > q.to || q.to > size) {
      throw new ApiError("validation-failed", "need 1 ≤ from ≤ to ≤ log size", { errors: [{ path: q.from > q.to ? "from" : "to", message: `the log has ${size} entries` }] });
    }
    const { proof, first, second } = await withPrefetchedNodes(c.var.services.db, c.var.caller.tenantId, async (reader) => ({
      proof: await consistencyProof(q.from, q.to, reader), first: await rootHash(q.from, reader), second: await rootHash(q.to, reader),
    }));
    return c.json({ data: {
      first: q.from, second: q.to, first_root: toHex(first), second_root: toHex(second), proof: proof.map(toHex),
    } }, 200);
  });
}
