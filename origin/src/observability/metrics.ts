import { sql } from "drizzle-orm";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { rowsOfResult, type Db } from "../db/index.ts";
import type { BackgroundHealth } from "./background-health.ts";

/**
 * The origin's Prometheus metrics (GET /metrics). Counters and histograms are updated where things
 * happen (HTTP middleware, the key-manager wrapper); backlog gauges (outbox, archive, dead letters)
 * are read from the database at scrape time, so they are true across several origins sharing it
 * and need no hook in the code that writes those tables. docs/operations.md lists the alerts.
 */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route" | "status">;
  certificatesIssued: Counter;
  certificatesRevoked: Counter;
  kmsCalls: Counter<"backend" | "op" | "outcome">;
  kmsDuration: Histogram<"backend" | "op" | "outcome">;
  publishFailures: Counter<"status">;
}

export interface MetricsSources {
  db: Db;
  /** Node-postgres pool counts when DATABASE_URL is set. */
  pool?: () => { total: number; idle: number; waiting: number };
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "kakunin_origin_" });
  const m: Metrics = {
    registry,
    httpRequests: new Counter({ name: "kakunin_http_requests_total", help: "HTTP requests by route template and status", labelNames: ["method", "route", "status"], registers: [registry] }),
    httpDuration: new Histogram({
      name: "kakunin_http_request_duration_seconds", help: "HTTP request latency by route template and status", labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
    }),
    certificatesIssued: new Counter({ name: "kakunin_certificates_issued_total", help: "Certificates issued (certify and renew)", registers: [registry] }),
    certificatesRevoked: new Counter({ name: "kakunin_certificates_revoked_total", help: "Certificates revoked through the API", registers: [registry] }),
    kmsCalls: new Counter({ name: "kakunin_kms_calls_total", help: "Key manager calls by backend, operation and outcome", labelNames: ["backend", "op", "outcome"], registers: [registry] }),
    kmsDuration: new Histogram({
      name: "kakunin_kms_call_duration_seconds", help: "Key manager call latency", labelNames: ["backend", "op", "outcome"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    }),
    publishFailures: new Counter({ name: "kakunin_publish_failures_total", help: "Publish attempts to the edge that failed, by HTTP status (0 = unreachable)", labelNames: ["status"], registers: [registry] }),
  };
  registerBacklogGauges(registry, sources);
  return m;
}

/** A scalar gauge computed by one SQL query (`v`) at scrape time; a failed query reports NaN, not a 500. */
function scalarFromDb(registry: Registry, db: Db, name: string, help: string, query: ReturnType<typeof sql>): void {
  void new Gauge({
    name, help, registers: [registry],
    async collect() {
      try {
        const list = rowsOfResult<{ v: number | string | null }>(await db.execute(query));
        this.set(Number(list[0]?.v ?? 0));
      } catch {
        this.set(Number.NaN);
      }
    },
  });
}

/**
 * A gauge of counts by label, computed by one grouped SQL query (one row per label set, `v` the
 * count) at scrape time. Every series in `series` is present (0 when empty) so an alert on `> 0`
 * has something to compare from the first scrape. A failed query reports NaN on every series (and
 * under "any"): zeros there read as "no dead letters" and resolved the alert during an outage.
 */
function countsFromDb<L extends string>(registry: Registry, db: Db, name: string, help: string, labelNames: readonly L[], series: Record<L, string>[], query: ReturnType<typeof sql>): void {
  void new Gauge({
    name, help, labelNames, registers: [registry],
    async collect() {
      this.reset();
      let rows: (Record<L, string> & { v: number | string })[];
      try {
        rows = rowsOfResult<Record<L, string> & { v: number | string }>(await db.execute(query));
      } catch {
        for (const labels of series) this.set(labels, Number.NaN);
        this.set(labelsOf(labelNames, () => "any"), Number.NaN);
        return;
      }
      for (const labels of series) this.set(labels, 0);
      for (const r of rows) this.set(labelsOf(labelNames, (l) => r[l]), Number(r.v));
    },
  });
}

function labelsOf<L extends string>(names: readonly L[], value: (l: L) => string): Record<L, string> {
  const out = {} as Record<L, string>;
  for (const l of names) out[l] = String(value(l));
  return out;
}

/** Backlog gauges read from the database at scrape time. */
function registerBacklogGauges(registry: Registry, { db, pool }: MetricsSources): void {
  const fromDb = (name: string, help: string, query: ReturnType<typeof sql>) => scalarFromDb(registry, db, name, help, query);
  fromDb("kakunin_outbox_pending", "Status records waiting to be published to the edge", sql`select count(*)::float8 as v from outbox where delivered_at is null`);
  // Changes (a revocation, an issuance) and upkeep (OCSP/CRL refresh, a resync) apart: upkeep is
  // published after every change, so only the first is the revocation-propagation lag.
  fromDb("kakunin_outbox_oldest_age_seconds", "Age of the oldest unpublished change (0 when none); upkeep apart", sql`select coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as v from outbox where delivered_at is null and not background`);
  fromDb("kakunin_outbox_upkeep_pending", "Upkeep records (OCSP/CRL refresh, resync) waiting to be published, after every change", sql`select count(*)::float8 as v from outbox where delivered_at is null and background`);
  fromDb("kakunin_outbox_upkeep_oldest_age_seconds", "Age of the oldest unpublished upkeep record (0 when none)", sql`select coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as v from outbox where delivered_at is null and background`);
  fromDb("kakunin_archive_pending_batches", "Sealed audit batches not yet accepted by the archive", sql`select count(*)::float8 as v from audit_batches where archived_at is null`);
  fromDb("kakunin_archive_lag_seconds", "Age of the oldest sealed batch the archive has not accepted (0 when none)", sql`select coalesce(extract(epoch from now() - min(sealed_at)), 0)::float8 as v from audit_batches where archived_at is null`);
  // Signed tree heads go to the archive too (what `kakunin audit check-archive` proves the entries
  // against); their uploads can fail while the batches' succeed, so they are a backlog of their own.
  const headsPending = sql`from audit_tree_heads h where not exists (select 1 from audit_tree_head_archive a where a.tenant_id = h.tenant_id and a.tree_size = h.tree_size)`;
  fromDb("kakunin_archive_pending_tree_heads", "Signed tree heads not yet accepted by the archive", sql`select count(*)::float8 as v ${headsPending}`);
  fromDb("kakunin_archive_tree_head_lag_seconds", "Age of the oldest signed tree head the archive has not accepted (0 when none)", sql`select coalesce(extract(epoch from now() - min(h.timestamp)), 0)::float8 as v ${headsPending}`);
  // Dead letters not yet replayed, by source (edge = reported by an AgentMonitor, origin = refused
  // here or by the edge's ledger) and kind, and the age of the oldest.
  countsFromDb(
    registry, db, "kakunin_dead_letters", "Dead letters not yet replayed, by source and kind", ["source", "kind"],
    LETTER_SOURCES.flatMap((source) => LETTER_KINDS.map((kind) => ({ source, kind }))),
    sql`select source, kind, count(*)::float8 as v from dead_letters where replayed_at is null group by source, kind`,
  );
  fromDb("kakunin_dead_letters_oldest_age_seconds", "Age of the oldest dead letter not yet replayed (0 when none)", sql`select coalesce(extract(epoch from now() - min(dead_at)), 0)::float8 as v from dead_letters where replayed_at is null`);
  // Webhook deliveries to endpoints not removed that are not delivered (`pending`: queued or
  // retrying; `dead`: gave up, waiting for a replay), and the oldest pending one's age.
  countsFromDb(
    registry, db, "kakunin_webhook_deliveries", "Webhook deliveries not delivered, by status (pending, dead), of active endpoints", ["status"],
    [{ status: "pending" }, { status: "dead" }],
    sql`select d.status, count(*)::float8 as v from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
      where d.status in ('pending', 'dead') and e.disabled_at is null group by d.status`,
  );
  fromDb("kakunin_webhook_oldest_pending_age_seconds", "Age of the oldest webhook delivery still pending (0 when none)", sql`select coalesce(extract(epoch from now() - min(d.created_at)), 0)::float8 as v
    from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id where d.status = 'pending' and e.disabled_at is null`);
  // Agents flagged or auto-revoked and waiting for a human (GET /v1/reviews), and how long the first has waited.
  const openReview = sql`from risk_decisions d join agents a on a.id = d.agent_id
    where d.review_id is null and d.decision in ('revoked', 'flagged') and a.status <> 'retired'`;
  fromDb("kakunin_review_queue_agents", "Agents awaiting a review decision (flagged, or auto-revoked), all tenants", sql`select count(distinct d.agent_id)::float8 as v ${openReview}`);
  fromDb(
    "kakunin_review_queue_oldest_age_seconds",
    "Age of the oldest open risk decision awaiting review (0 when none)",
    sql`select coalesce(extract(epoch from now() - min(d.triggered_at)), 0)::float8 as v ${openReview}`,
  );
  if (pool) {
    const g = new Gauge({ name: "kakunin_db_pool_connections", help: "PostgreSQL pool connections by state", labelNames: ["state"], registers: [registry],
      collect() {
        const p = pool();
        this.set({ state: "total" }, p.total);
        this.set({ state: "idle" }, p.idle);
        this.set({ state: "waiting" }, p.waiting);
      } });
    void g;
  }
}

const LETTER_SOURCES = ["edge", "origin"] as const;
const LETTER_KINDS = ["event", "alert", "publish"] as const;

/**
 * The local KeyManager's pool as gauges (ready keys and target), read at scrape time; absent for
 * backends without a pool. Lets an operator (and bench/issuance) see whether certify calls are
 * being served from ready keys or are waiting for fresh ones.
 */
export function registerKeyPoolGauges(registry: Registry, poolStatus: () => Promise<{ ready: number; target: number }>): void {
  void new Gauge({
    name: "kakunin_local_key_pool", help: "Local KeyManager pool: sealed keys ready ahead of demand, and the target", labelNames: ["state"], registers: [registry],
    async collect() {
      try {
        const p = await poolStatus();
        this.set({ state: "ready" }, p.ready);
        this.set({ state: "target" }, p.target);
      } catch {
        this.set({ state: "ready" }, Number.NaN);
      }
    },
  });
}

/**
 * Each background job's health, read at scrape time: the time of its last successful pass (0 while
 * it has had none, so `time() - last_success > N` fires on a job that never worked) and its failures
 * in a row (0 when the last pass succeeded). A per-process view: each origin runs its own jobs.
 */
export function registerBackgroundGauges(registry: Registry, health: BackgroundHealth): void {
  void new Gauge({
    name: "kakunin_background_last_success_timestamp_seconds", help: "Unix time of the last successful pass of each background job (0: none yet)", labelNames: ["loop"], registers: [registry],
    collect() {
      for (const [loop, s] of health.all()) this.set({ loop }, s.lastSuccessAt === undefined ? 0 : s.lastSuccessAt / 1000);
    },
  });
  void new Gauge({
    name: "kakunin_background_consecutive_failures", help: "Failed passes in a row of each background job (0 after a success)", labelNames: ["loop"], registers: [registry],
    collect() {
      for (const [loop, s] of health.all()) this.set({ loop }, s.consecutiveFailures);
    },
  });
}
