/**
 * Upgrading an edge WITH DURABLE STATE to this build. The fixture (test/fixtures/edge-upgrade-9f2709c,
 * made once by its generate.sh) is what release 9f2709c's worker left in `wrangler dev --persist-to`:
 * the AgentMonitor and StatusLedger Durable Objects' SQLite files and the CERT_STATUS KV, after
 * certificates were published (one revoked) and three agents posted events, the later ones while
 * the origin answered 503 (so they, and a risk alert, were still waiting to be forwarded). Here this
 * build's edge is started on that directory, as a deploy replaces the code under live objects:
 * nothing acknowledged before the upgrade may be lost, repeated or re-scored. An e2e test (not
 * workers/): only `wrangler dev` reads Miniflare's persisted files, and the objects must be the
 * ones the old build created, not tables a test re-creates.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintIngestToken, signInternal } from "@kakunin/shared";
import { freePort, pollUntil, startEdge, systemFixture, type Proc } from "./support/system.ts";

const FIXTURE = join(import.meta.dirname, "fixtures", "edge-upgrade-9f2709c");

type AgentKey = "steady" | "risky" | "quiet" | "revoked";
interface Result {
  event_id: string;
  score: number;
  band: string;
  duplicate?: boolean;
}
interface Outcome {
  accepted: number;
  duplicates: number;
  results: Result[];
}
interface Expected {
  generated_at: string;
  tenant: string;
  KAKUNIN_EDGE_SECRET: string;
  agents: Record<AgentKey, { id: string; serial: string }>;
  forwarded: string[];
  alerts_delivered: string[];
  pending: { steady: string[]; risky: string[] };
  answers: Record<"steady1" | "steady2" | "quiet" | "risky1" | "risky2", Outcome>;
  verify: Record<AgentKey, { status: number; body: { data: Record<string, unknown> } }>;
  risk: Record<Exclude<AgentKey, "revoked">, { status: number; body: { data: { events_scored: number; band: string } } }>;
}
const expected = JSON.parse(readFileSync(join(FIXTURE, "expected.json"), "utf8")) as Expected;
const secret = expected.KAKUNIN_EDGE_SECRET;
/** The edge keeps event ids for de-duplication 31 days after it received them (agent-monitor.ts DEDUPE_MS). */
const fixtureAgeDays = (Date.now() - Date.parse(expected.generated_at)) / 86_400_000;

/** The origin: records what the edge forwards; answers 503 (hold) until `up`. */
function fakeOrigin() {
  const got = { events: [] as string[], alerts: [] as Array<{ alert_id: string; agent_id: string; event_ids: string[] }>, up: false };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (!got.up) {
        res.statusCode = 503;
        return res.end();
      }
      const doc = JSON.parse(body || "{}") as { events?: Array<{ event: { event_id: string } }>; alert_id?: string; agent_id?: string; event_ids?: string[] };
      res.setHeader("content-type", "application/json");
      if (req.url === "/internal/v1/events") {
        for (const e of doc.events ?? []) got.events.push(e.event.event_id);
        return res.end(JSON.stringify({ stored: doc.events?.length ?? 0, duplicates: 0, rejected: 0 }));
      }
      if (req.url === "/internal/v1/risk-alerts") got.alerts.push({ alert_id: doc.alert_id!, agent_id: doc.agent_id!, event_ids: doc.event_ids ?? [] });
      res.end("{}");
    });
  });
  return { got, server };
}

const token = async (k: AgentKey) => {
  const a = expected.agents[k];
  const now = Math.floor(Date.now() / 1000);
  return mintIngestToken(secret, { agent_id: a.id, tenant_id: expected.tenant, serial: a.serial, iat: now, exp: now + 3600, jti: crypto.randomUUID() });
};
const event = (id: string, offsetMs = 0) => ({
  event_id: id,
  timestamp: new Date(Date.now() - 5_000 + offsetMs).toISOString(),
  type: "tool_call",
  action: "orders.place",
  resource: "orders/1",
  amount: 101,
  currency: "EUR",
  outcome: "success",
  latency_ms: 121,
});

describe("upgrading an edge with release 9f2709c's durable state to this build", () => {
  const fx = systemFixture();
  const origin = fakeOrigin();
  let edge: Proc;

  const ingest = async (k: AgentKey, events: unknown[]) =>
    fetch(`${edge.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await token(k)}` },
      body: JSON.stringify({ events }),
    });
  const risk = async (k: Exclude<AgentKey, "revoked">) => {
    const r = await fetch(`${edge.url}/v1/agents/${expected.agents[k].id}/risk`, { headers: { authorization: `Bearer ${await token(k)}` } });
    expect(r.status).toBe(200);
    return ((await r.json()) as { data: { events_scored: number; band: string; score: number } }).data;
  };

  beforeAll(async () => {
    const port = await freePort();
    await new Promise<void>((r) => origin.server.listen(port, "127.0.0.1", r));
    mkdirSync(join(fx.dir, "state"), { recursive: true });
    execFileSync("tar", ["-xzf", join(FIXTURE, "state.tar.gz"), "-C", join(fx.dir, "state")]);
    edge = await startEdge({ persistDir: fx.dir, originUrl: `http://127.0.0.1:${port}`, secret });
  });
  afterAll(async () => {
    await edge?.stop();
    await new Promise((r) => origin.server.close(r));
    fx.cleanup();
  });

  it("answers verify for the old serials as the old edge did: active stays active, revoked stays revoked (KV and the ledger)", async () => {
    for (const k of ["steady", "risky", "quiet", "revoked"] as const) {
      const was = expected.verify[k];
      for (const query of ["", "?consistency=strong"]) {
        const r = await fetch(`${edge.url}/v1/verify/${expected.agents[k].serial}${query}`);
        expect(r.status, `${k}${query}`).toBe(was.status);
        const now = ((await r.json()) as { data: Record<string, unknown> }).data;
        for (const field of ["serial_number", "status", "valid", "agent_id", "tenant_id", "reasons", "not_after"]) {
          expect(now[field], `${k}${query} ${field}`).toEqual(was.body.data[field]);
        }
      }
    }
    expect(expected.verify.revoked.body.data.status).toBe("revoked");
    // The revoked agent's token is refused at ingest too.
    expect((await ingest("revoked", [event("revoked-0")])).status).toBe(403);
  });

  it("keeps each agent's scoring state: GET /risk counts the events scored before the upgrade", async () => {
    for (const k of ["steady", "risky", "quiet"] as const) {
      expect((await risk(k)).events_scored, k).toBe(expected.risk[k].body.data.events_scored);
    }
  });

  it("acknowledges a re-sent old event_id as a duplicate with its old result, and does not count it again", async () => {
    // Still pending forward (the origin is down here): such rows are kept whatever their age.
    const pendingId = expected.pending.steady[0]!;
    const old = expected.answers.steady2.results.find((r) => r.event_id === pendingId)!;
    const ids = [pendingId];
    // A forwarded one is remembered for 31 days after the old edge received it.
    if (fixtureAgeDays < 30) ids.push("steady-3");
    const r = await ingest(
      "steady",
      ids.map((id) => event(id)),
    );
    expect(r.status).toBe(202);
    const out = ((await r.json()) as { data: Outcome }).data;
    expect(out).toMatchObject({ accepted: 0, duplicates: ids.length });
    expect(out.results[0]).toMatchObject({ event_id: pendingId, score: old.score, band: old.band, duplicate: true });
    expect((await risk("steady")).events_scored).toBe(expected.risk.steady.body.data.events_scored);
  });

  it("scores new events on the old state (n grows from where it was, no cold start)", async () => {
    const before = expected.risk.steady.body.data.events_scored;
    const r = await ingest("steady", [event("steady-new-1", 0), event("steady-new-2", 1000)]);
    expect(r.status).toBe(202);
    const out = ((await r.json()) as { data: Outcome }).data;
    expect(out.accepted).toBe(2);
    // The agent's usual event on its learned history is not news (a cold start flags novelty).
    for (const res of out.results) expect(res.band, JSON.stringify(res)).toBe("low");
    expect((await risk("steady")).events_scored).toBe(before + 2);
  });

  it("delivers the events and the alert pending at the old version to the origin exactly once", async () => {
    origin.got.up = true;
    const pending = [...expected.pending.steady, ...expected.pending.risky];
    const want = [...pending, "steady-new-1", "steady-new-2"];
    await pollUntil(async () => (want.every((id) => origin.got.events.includes(id)) && origin.got.alerts.length > 0 ? true : undefined), 90_000, 250);
    // Time for a repeat to show up: the alarm's next run, had it not marked them forwarded.
    await new Promise((r) => setTimeout(r, 3_000));
    expect([...origin.got.events].sort()).toEqual([...want].sort());
    // Nothing the origin acknowledged before the upgrade comes again.
    expect(origin.got.events.filter((id) => expected.forwarded.includes(id))).toEqual([]);
    expect(origin.got.alerts).toHaveLength(1);
    expect(origin.got.alerts[0]).toMatchObject({ agent_id: expected.agents.risky.id });
    expect(expected.alerts_delivered).toEqual([]);
    for (const id of origin.got.alerts[0]!.event_ids) expect(expected.pending.risky).toContain(id);
  });

  it("moves the pre-sharding ledger's records on the first publish: a stale re-publish cannot roll a revocation back, a newer one applies", async () => {
    const a = expected.agents;
    const cert = (k: AgentKey, v: number, over: Record<string, unknown>) => ({
      kind: "cert",
      v,
      serial_number: a[k].serial,
      certificate_id: crypto.randomUUID(),
      status: "active",
      agent_id: a[k].id,
      agent_urn: `urn:kakunin:agent:${a[k].id}`,
      tenant_id: expected.tenant,
      agent_status: "active",
      model: { name: "gpt-4o", version: "2024-08-06", hash: `sha256:${"ab".repeat(32)}` },
      scopes: ["orders.*", "crm.lookup_customer"],
      not_before: "2026-12-01T00:00:00.000Z",
      not_after: "2036-12-01T00:00:00.000Z",
      revoked_at: null,
      revocation_reason: null,
      revocation_code: null,
      certificate_pem: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
      ocsp_b64: null,
      ...over,
    });
    // As the old origin sent it (wire v1: no wire_version, no epoch). The revoked certificate was
    // published at v 70 (drive.mjs): an older active copy of it is stale. Last in this file: it revokes quiet.
    const revoke = { status: "revoked", revoked_at: new Date().toISOString(), revocation_reason: "superseded", revocation_code: "superseded" };
    const body = JSON.stringify({ records: [cert("revoked", 20, {}), cert("quiet", 1000, revoke)] });
    const r = await fetch(`${edge.url}/internal/v1/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await signInternal(secret, "POST", "/internal/v1/publish", body)) },
      body,
    });
    expect(r.status, await r.clone().text()).toBe(200);
    expect(((await r.json()) as { data: { applied: number; stale: number } }).data).toMatchObject({ applied: 1, stale: 1 });
    // Strong reads ask the ledger shard; eventual ones read KV through the in-isolate cache, whose
    // entries live 200 ms (verify/status-cache.ts): within a second either way.
    for (const query of ["?consistency=strong", ""]) {
      const status = async (k: AgentKey) =>
        ((await (await fetch(`${edge.url}/v1/verify/${a[k].serial}${query}`)).json()) as { data: { status: string } }).data.status;
      await pollUntil(async () => ((await status("quiet")) === "revoked" ? true : undefined), 1_000, 50);
      expect(await status("revoked"), query).toBe("revoked");
      expect(await status("steady"), query).toBe("active");
    }
  });
});
