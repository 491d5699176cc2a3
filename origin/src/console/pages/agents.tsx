/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import { z } from "zod";
import { decodeCursor, encodeCursor } from "../../routes/cursor.ts";
import { agentsPage } from "../agents-data.ts";
import type { ConsoleEnv } from "../env.ts";
import { allow } from "../http.ts";
import { Band, Layout, When } from "../layout.tsx";
import { Sparkline } from "../sparkline.tsx";

const filterQuery = z.object({
  status: z.enum(["active", "suspended", "retired"]).optional().catch(undefined),
  band: z.enum(["low", "medium", "high"]).optional().catch(undefined),
  name: z.string().max(100).optional().catch(undefined),
  cursor: z.string().max(512).optional(),
});

const PAGE = 25;

/** GET /console/agents: the tenant's agents with status, band, sparkline and expiry; filters; keyset paging. */
export function registerAgents(app: Hono<ConsoleEnv>): void {
  app.get("/agents", allow("agents"), async (c) => {
    const q = filterQuery.parse(c.req.query());
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    const name = q.name?.trim() || undefined;
    const { rows, next } = await agentsPage(c.var.services.db, c.var.caller.tenantId, { status: q.status, band: q.band, name, cursor, limit: PAGE });
    const keep = new URLSearchParams();
    if (q.status) keep.set("status", q.status);
    if (q.band) keep.set("band", q.band);
    if (name) keep.set("name", name);
    const nextHref = next ? `/console/agents?${new URLSearchParams([...keep, ["cursor", encodeCursor(next)]])}` : null;
    const now = c.var.services.clock.now();
    return c.html(
      <Layout title="Agents" caller={c.var.caller} csrf={c.var.csrf} current="/console/agents">
        <form method="get" action="/console/agents" class="filters" role="search" aria-label="Filter agents">
          <label for="f-name">Name contains</label>
          <input id="f-name" name="name" type="search" value={name ?? ""} />
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">any</option>
            {(["active", "suspended", "retired"] as const).map((s) => <option value={s} selected={q.status === s}>{s}</option>)}
          </select>
          <label for="f-band">Risk band</label>
          <select id="f-band" name="band">
            <option value="">any</option>
            {(["low", "medium", "high"] as const).map((b) => <option value={b} selected={q.band === b}>{b}</option>)}
          </select>
          <button type="submit">Filter</button>
        </form>
        <table class="data" id="agents">
          <caption>{rows.length === 0 ? "No agents match." : `${rows.length} agent(s) on this page, oldest first`}</caption>
          <thead>
            <tr><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Band</th><th scope="col">Score</th><th scope="col">Recent risk</th><th scope="col">Certificate expires</th><th scope="col">Owner</th></tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr data-agent-id={r.agent.id}>
                <th scope="row"><a href={`/console/agents/${r.agent.id}`}>{r.agent.name}</a><div class="muted small">{r.agent.modelName} {r.agent.modelVersion}</div></th>
                <td><span class={`status status-${r.agent.status}`}>{r.agent.status}</span>{r.agent.reviewRequestedAt ? <span class="flag"> review requested</span> : null}</td>
                <td><Band band={r.band} /></td>
                <td class="num">{r.score === null ? "—" : r.score.toFixed(2)}</td>
                <td><Sparkline scores={r.spark} label={`Risk of the last ${r.spark.length} events of ${r.agent.name}`} /></td>
                <td>{r.certExpiresAt ? <><When at={r.certExpiresAt} /> <span class="muted small">({Math.round((r.certExpiresAt.getTime() - now.getTime()) / 86_400_000)} d)</span></> : <span class="muted">no active certificate</span>}</td>
                <td>{r.agent.ownerName}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <nav aria-label="Pages" class="pager">
          {q.cursor ? <a href={`/console/agents${keep.size ? `?${keep}` : ""}`}>First page</a> : null}
          {nextHref ? <a href={nextHref} rel="next">Next page</a> : null}
        </nav>
      </Layout>,
    );
  });
}
