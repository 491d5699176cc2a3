/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import { agentUrn } from "../../ca/profiles.ts";
import { agentInTenant, auditOf, certificatesOf, latestEvents } from "../agent-data.ts";
import { may, type ConsoleEnv } from "../env.ts";
import { allow } from "../http.ts";
import { Band, Layout, When } from "../layout.tsx";
import { notFoundPage } from "./not-found.tsx";

const EVENTS_SHOWN = 50;
const AUDIT_SHOWN = 30;

/** GET /console/agents/:id: identity, certificates, risk timeline, events with reasons, audit entries with proof checks. */
export function registerAgent(app: Hono<ConsoleEnv>): void {
  app.get("/agents/:id", allow("agents"), async (c) => {
    const { db } = c.var.services;
    const caller = c.var.caller;
    const a = await agentInTenant(db, caller.tenantId, c.req.param("id"));
    if (!a) return notFoundPage(c, "agent");
    const certs = await certificatesOf(db, a.id);
    const events = may(caller, "events") ? await latestEvents(db, a.id, EVENTS_SHOWN) : null;
    const audit = may(caller, "audit") ? await auditOf(db, caller.tenantId, a.id, AUDIT_SHOWN) : null;
    return c.html(
      <Layout title={a.name} caller={caller} csrf={c.var.csrf} current="/console/agents" scripts>
        <div class="grid">
          <section class="card" aria-labelledby="h-identity">
            <h2 id="h-identity">Identity</h2>
            <dl class="kv">
              <dt>Status</dt><dd><span class={`status status-${a.status}`}>{a.status}</span>{a.reviewRequestedAt ? <span class="flag"> review requested <When at={a.reviewRequestedAt} /></span> : null}</dd>
              <dt>URN</dt><dd class="mono">{agentUrn(a.id)}</dd>
              <dt>Owner</dt><dd>{a.ownerName} &lt;{a.ownerEmail}&gt;</dd>
              <dt>Scopes</dt><dd class="mono">{a.scopes.join(", ") || "none"}</dd>
              <dt>Created</dt><dd><When at={a.createdAt} /></dd>
            </dl>
          </section>
          <section class="card" aria-labelledby="h-model">
            <h2 id="h-model">Model binding</h2>
            <dl class="kv">
              <dt>Model</dt><dd>{a.modelName} {a.modelVersion}</dd>
              <dt>Hash</dt><dd class="mono">{a.modelHash}</dd>
            </dl>
          </section>
        </div>
        <h2 id="h-certs">Certificates</h2>
        <table class="data" aria-labelledby="h-certs" id="certificates">
          <thead><tr><th scope="col">Serial</th><th scope="col">Status</th><th scope="col">Model</th><th scope="col">Issued</th><th scope="col">Expires</th><th scope="col">Revoked</th></tr></thead>
          <tbody>
            {certs.length === 0 ? <tr><td colspan={6} class="muted">Never certified.</td></tr> : null}
            {certs.map((k) => (
              <tr>
                <td class="mono">{k.serialNumber}</td>
                <td><span class={`status status-${k.status === "active" ? "active" : k.status === "revoked" ? "suspended" : "retired"}`}>{k.status}</span></td>
                <td>{k.modelName} {k.modelVersion}</td>
                <td><When at={k.issuedAt} /></td>
                <td><When at={k.expiresAt} /></td>
                <td>{k.revokedAt ? <><When at={k.revokedAt} /> <span class="muted">({k.revocationReason})</span></> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {events ? (
          <>
            <h2 id="h-timeline">Risk timeline</h2>
            <p class="muted small">Score of every event over time (the time the agent gave it: it may back-date events up to 30 days), with the medium and high band thresholds; revocations and review decisions are marked. Hover a point for the reasons. The events table below holds the same data without JavaScript, with the time the edge received each event.</p>
            <div id="timeline" class="chart" data-src={`/console/agents/${a.id}/timeline.json`} role="img" aria-label={`Risk score per event over time for ${a.name}`}></div>
            <div id="timeline-tip" class="tooltip hidden" role="status"></div>
            <h2 id="h-events">Latest events</h2>
            <table class="data" aria-labelledby="h-events" id="events">
              <thead><tr><th scope="col">Time (claimed by the agent)</th><th scope="col">Received</th><th scope="col">Type</th><th scope="col">Action</th><th scope="col">Score</th><th scope="col">Band</th><th scope="col">Reasons</th></tr></thead>
              <tbody>
                {events.length === 0 ? <tr><td colspan={7} class="muted">No events yet.</td></tr> : null}
                {events.map((e) => (
                  <tr>
                    <td><When at={e.occurredAt} /></td><td><When at={e.receivedAt} /></td><td class="nowrap">{e.type}</td><td class="mono">{e.action}</td>
                    <td class="num">{e.score.toFixed(2)}</td><td><Band band={e.band} /></td>
                    <td>{e.reasons.length === 0 ? <span class="muted">—</span> : (
                      <ul class="reasons">{e.reasons.map((r) => <li><span class="mono">{r.feature}</span> +{r.contribution.toFixed(2)}: {r.detail}</li>)}</ul>
                    )}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : <p class="notice">Role '{caller.role}' cannot read behaviour events or the audit log (as in the API).</p>}
        {audit ? (
          <>
            <h2 id="h-audit">Audit entries</h2>
            <p class="muted small">Check proves, in this browser, that the entry is in the tenant's log: SHA-256 of the entry, the RFC 9162 inclusion path up to the root of the signed tree head, and the tree head's signature under the signer certificate it names. Pin the root offline with <span class="mono">kakunin audit verify</span>.</p>
            <table class="data" aria-labelledby="h-audit" id="audit">
              <thead><tr><th scope="col">Index</th><th scope="col">Kind</th><th scope="col">Logged</th><th scope="col">Inclusion proof</th></tr></thead>
              <tbody>
                {audit.map((e) => (
                  <tr>
                    <td class="num">{e.idx}</td><td class="mono">{e.kind}</td><td><When at={e.createdAt} /></td>
                    <td class="actions">
                      <button type="button" class="secondary proof-check" data-entry={String(e.idx)} data-src={`/console/agents/${a.id}/proof.json?entry=${e.idx}`} aria-describedby={`proof-${e.idx}`}>Check entry {e.idx}</button>
                      <span id={`proof-${e.idx}`} class="proof-result" role="status"></span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : null}
      </Layout>,
    );
  });
}
