import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { agents } from "../db/schema.ts";
import { errorFields } from "../observability/logger.ts";
import { EVIDENCE_FORMATS } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { evidenceJson, prepareEvidence } from "../audit/evidence.ts";
import { recordFailedExport } from "../audit/export-failed.ts";
import { toAgentView } from "../views/agent.ts";
import { apiKeyActor } from "../audit/types.ts";
import { requireRole } from "../auth/authenticate.ts";
import { ApiError, notFound } from "../http/api-error.ts";
import { kmOrThrow } from "./fail.ts";
import { bearer, errorResponses, idParams } from "./openapi.ts";
import { queryInt } from "./query-int.ts";
import { apiInstant } from "./query-time.ts";

const windowQuery = z.object({
  from: apiInstant.optional(),
  to: apiInstant.optional(),
  /** The size of an earlier tree head the caller holds: the bundle then proves consistency with it. */
  since_size: queryInt(0).optional(),
  /** kakunin-evidence/3 (default: one shared multiproof) or kakunin-evidence/2 (an audit path per entry, for older tooling). */
  format: z.enum(EVIDENCE_FORMATS).optional(),
})
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: "from must be before to", path: ["from"] });

export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}/evidence",
  summary: "Self-contained evidence bundle for an agent (verify offline with `kakunin audit verify`)",
  description: "Streamed (chunked) as one JSON document, format kakunin-evidence/3 (docs/evidence-format.md; " +
    "`format=kakunin-evidence/2` for the previous format). Each export appends an " +
    "`evidence.exported` checkpoint entry to the agent's chain and signs a tree head ending with it.",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  request: { params: idParams, query: windowQuery },
  responses: {
    200: { description: "Evidence bundle (format kakunin-evidence/3, or the format asked for)", content: { "application/json": { schema: z.object({ data: z.record(z.string(), z.unknown()) }) } } },
    ...errorResponses(404, 422, 503),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    if (q.since_size !== undefined) {
      // No earlier tree head can be larger than the log: refuse before the export appends its
      // checkpoint, rather than prove consistency with a tree the caller never held.
      const size = await c.var.services.auditSizes.atLeast(c.var.caller.tenantId, q.since_size);
      if (q.since_size > size) {
        throw new ApiError("validation-failed", "since_size is beyond the log", { errors: [{ path: "since_size", message: `the log has ${size} entries` }] });
      }
    }
    // HEAD is safe (RFC 9110 §9.2.1): it answers as the export would, without appending the
    // export's checkpoint to the write-once log or signing a tree head for a bundle nobody gets.
    if (c.req.method === "HEAD") {
      const [agent] = await c.var.services.db.select({ id: agents.id }).from(agents).where(and(eq(agents.id, id), eq(agents.tenantId, c.var.caller.tenantId)));
      if (!agent) throw notFound("agent", id);
      return c.body(null, 200, { "content-type": "application/json" }) as never;
    }
    const actor = apiKeyActor(c.var.caller);
    const prepared = kmOrThrow(await prepareEvidence(
      c.var.services, { id: c.var.caller.tenantId, name: c.var.caller.tenantName }, id,
      { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, sinceSize: q.since_size, format: q.format }, actor, toAgentView,
    ));
    if (!prepared) throw notFound("agent", id);
    // Pull-based: the next page is read from the database only when the client has taken the last
    // one, so memory stays flat whatever the bundle's size. A failure mid-stream aborts the
    // response; the client then holds a truncated document that no JSON parser accepts.
    const chunks = evidenceJson(prepared);
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        try {
          const next = await chunks.next();
          if (next.done) ctrl.close();
          else ctrl.enqueue(enc.encode(next.value));
        } catch (e) {
          c.var.services.logger.error("evidence export failed mid-stream", { component: "http", event: "evidence_stream_failed", agent_id: id, ...errorFields(e) });
          // The caller holds a truncated document that no verifier accepts: the checkpoint (the
          // last leaf of the signed tree) does not stand for an export anyone received.
          await recordFailedExport(c.var.services, c.var.caller.tenantId, {
            agentId: id, checkpoint: prepared.header.tree_head.tree_size - 1, actor, stage: "stream",
            failure: { thrown: e },
          });
          ctrl.error(e);
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
    return c.body(body, 200, { "content-type": "application/json" }) as never;
  });
}
