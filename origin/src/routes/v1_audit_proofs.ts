import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { consistencyProof, inclusionProof, rootHash } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { hex as toHex } from "../audit/hex.ts";
import { withPrefetchedNodes } from "../audit/proof-reader.ts";
import { requireReadRole } from "../auth/authenticate.ts";
import { ApiError } from "../http/api-error.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";
import { queryInt } from "./query-int.ts";

const inclusionQuery = z.object({
  entry: queryInt(0),
  /** Tree size the proof is for; default: the current size (match it to a signed tree head). */
  tree_size: queryInt(1).optional(),
});

export const inclusionRoute = createRoute({
  method: "get",
  path: "/v1/audit/proofs/inclusion",
  summary: "RFC 9162 inclusion proof of entry `entry` in the tree of size `tree_size`",
  security: bearer,
  middleware: [requireReadRole("admin", "auditor")] as const,
  request: { query: inclusionQuery },
  responses: {
    200: dataResponse(z.object({ leaf_index: z.number(), tree_size: z.number(), leaf_hash: z.string(), root_hash: z.string(), audit_path: z.array(z.string()) }), "Proof"),
    ...errorResponses(404, 422),
  },
});

const consistencyQuery = z.object({ from: queryInt(1), to: queryInt(1) });

export const consistencyRoute = createRoute({
  method: "get",
  path: "/v1/audit/proofs/consistency",
  summary: "RFC 9162 consistency proof between tree sizes `from` and `to`",
  security: bearer,
  middleware: [requireReadRole("admin", "auditor")] as const,
  request: { query: consistencyQuery },
  responses: {
    200: dataResponse(z.object({ first: z.number(), second: z.number(), first_root: z.string(), second_root: z.string(), proof: z.array(z.string()) }), "Proof"),
    ...errorResponses(422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(inclusionRoute, async (c) => {
    const q = c.req.valid("query");
    const { auditSizes, auditNodes, db } = c.var.services;
    const tenantId = c.var.caller.tenantId;
    // A size known to be committed needs no read; anything refused is refused on a fresh read (audit/log-size.ts).
    const size = q.tree_size === undefined ? await auditSizes.current(tenantId, q.entry + 1) : await auditSizes.atLeast(tenantId, q.tree_size);
    const treeSize = q.tree_size ?? size;
    if (treeSize > size) throw new ApiError("validation-failed", "tree_size is beyond the log", { errors: [{ path: "tree_size", message: `the log has ${size} entries` }] });
    if (q.entry >= treeSize) throw new ApiError("not-found", `entry ${q.entry} is not in a tree of size ${treeSize}`);
    // Leaf (the level-0 node), path and root from the node cache, reading only missing chunks (withPrefetchedNodes).
    // Roots of committed sizes never change: remembered, but only from the real run's result (the
    // dry run inside withPrefetchedNodes computes over zeros).
    const known = auditNodes.root(tenantId, treeSize);
    const { leaf, path, root } = await withPrefetchedNodes(db, tenantId, async (reader) => ({
      leaf: await reader.get(0, q.entry), path: await inclusionProof(q.entry, treeSize, reader), root: known ?? await rootHash(treeSize, reader),
    }), auditNodes);
    if (!known) auditNodes.putRoot(tenantId, treeSize, root);
    return c.json({ data: {
      leaf_index: q.entry, tree_size: treeSize, leaf_hash: toHex(leaf), root_hash: toHex(root), audit_path: path.map(toHex),
    } }, 200);
  });
  app.openapi(consistencyRoute, async (c) => {
    const q = c.req.valid("query");
    const { auditSizes, auditNodes, db } = c.var.services;
    const tenantId = c.var.caller.tenantId;
    const size = await auditSizes.atLeast(tenantId, q.to);
    if (q.from > q.to || q.to > size) {
      throw new ApiError("validation-failed", "need 1 ≤ from ≤ to ≤ log size", { errors: [{ path: q.from > q.to ? "from" : "to", message: `the log has ${size} entries` }] });
    }
    const [k1, k2] = [auditNodes.root(tenantId, q.from), auditNodes.root(tenantId, q.to)];
    const { proof, first, second } = await withPrefetchedNodes(db, tenantId, async (reader) => ({
      proof: await consistencyProof(q.from, q.to, reader), first: k1 ?? await rootHash(q.from, reader), second: k2 ?? await rootHash(q.to, reader),
    }), auditNodes);
    if (!k1) auditNodes.putRoot(tenantId, q.from, first);
    if (!k2) auditNodes.putRoot(tenantId, q.to, second);
    return c.json({ data: {
      first: q.from, second: q.to, first_root: toHex(first), second_root: toHex(second), proof: proof.map(toHex),
    } }, 200);
  });
}
