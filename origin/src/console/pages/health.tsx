/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import type { ConsoleEnv } from "../env.ts";
import { allow } from "../http.ts";
import { Layout, When } from "../layout.tsx";
import { tenantHealth } from "../health-data.ts";

const msText = (v: number | null) => (v === null ? "—" : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);
const ageText = (s: number | null) => (s === null ? "none" : s < 120 ? `${s} s` : `${Math.round(s / 60)} min`);

/** GET /console/health (admin, like the dead-letter API): propagation, lags, dead letters, webhooks. */
export function registerHealth(app: Hono<ConsoleEnv>): void {
  app.get("/health", allow("health"), async (c) => {
    const s = c.var.services;
    const h = await tenantHealth(s.db, c.var.caller.tenantId, s.clock.now());
    return c.html(
      <Layout title="Tenant health" caller={c.var.caller} csrf={c.var.csrf} current="/console/health">
        <div class="grid" id="health-summary">
          <section class="card" aria-labelledby="h-prop"><h2 id="h-prop">Revocation propagation</h2>
            <p>Revocation → the edge acknowledging it: median <strong id="prop-p50">{msText(h.propagationP50)}</strong>, slowest {msText(h.propagationMax)} (last {h.propagation.length}).</p></section>
          <section class="card" aria-labelledby="h-lag"><h2 id="h-lag">Lag</h2>
            <dl class="kv">
              <dt>Outbox (origin-wide)</dt><dd id="outbox-pending">{h.outbox.pending} pending, oldest {ageText(h.outbox.oldestAgeS)}</dd>
              <dt>Edge → origin events</dt><dd>p50 {msText(h.forward.p50)}, p95 {msText(h.forward.p95)} ({h.forward.samples} events)</dd>
              <dt>Archive</dt><dd>{h.archive.pending} batch(es) waiting, oldest {ageText(h.archive.oldestAgeS)}; last archived <When at={h.archive.lastArchivedAt} /></dd>
            </dl></section>
          <section class="card" aria-labelledby="h-dead"><h2 id="h-dead">Dead letters</h2>
            {h.deadLetters.length === 0 ? <p id="dead-none">None waiting for replay.</p> : <ul>{h.deadLetters.map((d) => <li>{d.n} {d.kind} from the {d.source}</li>)}</ul>}</section>
          <section class="card" aria-labelledby="h-hooks"><h2 id="h-hooks">Webhook deliveries</h2>
            {h.webhooks.byStatus.length === 0 ? <p>No deliveries yet.</p> : <ul>{h.webhooks.byStatus.map((w) => <li>{w.n} {w.status}</li>)}</ul>}</section>
        </div>
        <h2 id="h-prop-table">Recent revocations</h2>
        <table class="data" aria-labelledby="h-prop-table">
          <thead><tr><th scope="col">Serial</th><th scope="col">Revoked</th><th scope="col">Edge acknowledged</th><th scope="col">Took</th></tr></thead>
          <tbody>{h.propagation.map((p) => <tr><td class="mono">{p.serial}</td><td><When at={p.revokedAt} /></td><td><When at={p.deliveredAt} /></td><td class="num">{msText(p.ms)}</td></tr>)}</tbody>
        </table>
        <h2 id="h-hook-table">Latest webhook deliveries</h2>
        <table class="data" aria-labelledby="h-hook-table">
          <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Next attempt</th></tr></thead>
          <tbody>{h.webhooks.recent.map((w) => <tr><td class="mono">{w.type}</td><td>{w.status}</td><td class="num">{w.attempts}</td><td><When at={w.next} /></td></tr>)}</tbody>
        </table>
      </Layout>,
    );
  });
}
