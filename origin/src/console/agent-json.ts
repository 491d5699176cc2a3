import type { Hono } from "hono";
import { and, eq } from "drizzle-orm";
import { BAND_HIGH, BAND_MEDIUM, inclusionProof, problem, problemResponse, toHex } from "@kakunin/shared";
import { committedReader } from "../audit/append.ts";
import { treeHead } from "../audit/tree-head.ts";
import { KMS_RETRY_AFTER_S } from "../lifecycle/failure.ts";
import { auditEntries } from "../db/schema.ts";
import { agentInTenant, timelineOf } from "./agent-data.ts";
import type { ConsoleEnv } from "./env.ts";
import { allow } from "./http.ts";

const notFound = (what: string) => problemResponse(problem("not-found", `No such ${what}.`));

/**
 * The data the agent page's charts and proof checks fetch (same origin, session cookie):
 * GET /console/agents/:id/timeline.json and GET /console/agents/:id/proof.json?entry=N.
 */
export function registerAgentJson(app: Hono<ConsoleEnv>): void {
  app.get("/agents/:id/timeline.json", allow("events"), async (c) => {
    const { db } = c.var.services;
    const a = await agentInTenant(db, c.var.caller.tenantId, c.req.param("id"));
    if (!a) return notFound("agent");
    return c.json(await timelineOf(db, a.id, { medium: BAND_MEDIUM, high: BAND_HIGH }));
  });

  app.get("/agents/:id/proof.json", allow("audit"), async (c) => {
    const s = c.var.services;
    const caller = c.var.caller;
    const a = await agentInTenant(s.db, caller.tenantId, c.req.param("id"));
    const idx = Number(c.req.query("entry"));
    if (!a || !Number.isSafeInteger(idx) || idx < 0) return notFound("audit entry");
    const [e] = await s.db
      .select({ canonical: auditEntries.canonical })
      .from(auditEntries)
      .where(and(eq(auditEntries.tenantId, caller.tenantId), eq(auditEntries.agentId, a.id), eq(auditEntries.idx, idx)));
    if (!e) return notFound("audit entry");
    const sth = await treeHead(s, { id: caller.tenantId, name: caller.tenantName });
    if (!sth.ok) {
      if (sth.error.code === "audit_log_rewritten") return problemResponse(problem("audit-log-inconsistent", sth.error.message));
      return problemResponse(problem("kms-unavailable", "The tree head could not be signed now; try again."), { "retry-after": String(KMS_RETRY_AFTER_S) });
    }
    const path = await inclusionProof(idx, sth.value.tree_size, committedReader(s.db, caller.tenantId));
    return c.json({ canonical: e.canonical, leaf_index: idx, tree_head: sth.value, audit_path: path.map(toHex) });
  });
}
