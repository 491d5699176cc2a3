import { DEFAULT_TTL_MS } from "../src/verify/status-cache.ts";
import { reset, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { agentRec, certRec, env, nextV, publish } from "./fixtures.ts";

/**
 * A rolling deploy, both directions, for the contracts the edge is part of (the origin's side:
 * origin/test/rolling-deploy.test.ts and publish-isolation.test.ts).
 * - Old origin → new edge: publish bodies exactly as older origins wrote them (frozen literals,
 *   not built from today's types) are applied; a version newer than the edge knows is 426 and
 *   applies nothing (the origin holds and retries).
 * - New edge → old origin: an origin that answers 426 to a risk alert or a dead-letter report (it
 *   does not know the edge's wire_version yet) makes the edge hold them, never drop or bury them,
 *   and they are delivered once the origin is upgraded.
 */
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

const TENANT = "3f0c8c52-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
const AGENT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const iso = (ms: number) => new Date(Date.now() + ms).toISOString();

/** What an origin before wire versions, epochs, renewals and CRL issuers sent. */
const v1Body = (serial: string, v: number) => ({
  records: [
    {
      kind: "cert",
      v,
      serial_number: serial,
      certificate_id: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
      status: "active",
      agent_id: AGENT,
      agent_urn: `urn:kakunin:agent:${AGENT}`,
      tenant_id: TENANT,
      agent_status: "active",
      model: { name: "gpt-4o", version: "2024-08-06", hash: `sha256:${"ab".repeat(32)}` },
      scopes: ["orders.*"],
      not_before: iso(-60_000),
      not_after: iso(86_400_000),
      revoked_at: null,
      revocation_reason: null,
      revocation_code: null,
      certificate_pem: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
      ocsp_b64: null,
    },
    { kind: "agent", v: v + 1, agent_id: AGENT, tenant_id: TENANT, status: "active", current_serial: serial },
    { kind: "crl", v: v + 2, tenant_id: TENANT, crl_b64: btoa("OLD-CRL"), this_update: iso(0), next_update: iso(86_400_000), chain_pem: "PEM" },
  ],
});

describe("old origin → new edge (publish)", () => {
  it("a v1 body (no wire_version, no epoch, older record shapes) and a v2 body are applied", async () => {
    const serial = "4a".padEnd(32, "1");
    const v = nextV() + 10;
    const body = JSON.stringify(v1Body(serial, v));
    expect((await publish([], { body })).status).toBe(200);
    const verify = await exports.default.fetch(`http://edge/v1/verify/${serial}`);
    expect(verify.status).toBe(200);
    expect(((await verify.json()) as { data: { status: string; agent_id: string } }).data).toMatchObject({ status: "active", agent_id: AGENT });
    expect(new TextDecoder().decode(await (await exports.default.fetch(`http://edge/v1/crl/${TENANT}`)).arrayBuffer())).toBe("OLD-CRL");
    // v2: the same shapes with the version named and an epoch; a revocation, applied over the v1 state.
    const revoked = {
      ...v1Body(serial, v + 3).records[0],
      status: "revoked",
      revoked_at: iso(0),
      revocation_reason: "rolled",
      revocation_code: "keyCompromise",
    };
    expect((await publish([], { body: JSON.stringify({ wire_version: 2, records: [revoked], epoch: { n: 0, id: "" } }) })).status).toBe(200);
    // The active answer above is cached in the isolate for at most DEFAULT_TTL_MS (verify/status-cache.ts).
    await new Promise((r) => setTimeout(r, DEFAULT_TTL_MS + 5));
    const after = (await (await exports.default.fetch(`http://edge/v1/verify/${serial}`)).json()) as { data: { status: string } };
    expect(after.data.status).toBe("revoked");
  });

  it("a newer version than the edge knows is 426 and applies nothing", async () => {
    const serial = "4b".padEnd(32, "2");
    const res = await publish([], { body: JSON.stringify({ wire_version: 4, ...v1Body(serial, nextV() + 10) }) });
    expect(res.status).toBe(426);
    expect(((await res.json()) as { type: string }).type).toBe("urn:kakunin:problem:unsupported-wire-version");
    expect((await exports.default.fetch(`http://edge/v1/verify/${serial}`)).status).toBe(404);
  });
});

describe("new edge → old origin (risk alerts, dead-letter reports)", () => {
  /** An origin that does not speak the edge's wire_version until `upgraded()`. */
  function oldOrigin() {
    let upgraded = false;
    const calls: { path: string; body: string; status: number }[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
      const body = String(init?.body ?? "");
      const status = upgraded ? 200 : 426;
      calls.push({ path, body, status });
      const answer =
        status === 200
          ? { data: { stored: 1, duplicates: 0, rejected: 0, decision: "flagged" } }
          : { type: "urn:kakunin:problem:unsupported-wire-version", status };
      return new Response(JSON.stringify(answer), { status });
    });
    return {
      calls,
      upgrade: () => {
        upgraded = true;
      },
    };
  }

  async function monitor() {
    const cert = certRec();
    await publish([cert, agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: cert.serial_number })]);
    return { cert, stub: env.AGENT_MONITOR.getByName(cert.agent_id) };
  }
  const runNow = async (stub: DurableObjectStub<AgentMonitor>) => {
    await runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(stub);
  };

  it("a risk alert answered 426 is held across runs, never dead-lettered, and delivered after the upgrade", async () => {
    const { cert, stub } = await monitor();
    const origin = oldOrigin();
    await runInDurableObject(stub, async (m: AgentMonitor, state) => {
      // Bind the monitor to its agent (an ingest does this), then queue an alert as scoring would.
      await m.ingest({ agentId: cert.agent_id, tenantId: cert.tenant_id, serial: cert.serial_number, scopes: cert.scopes }, []);
      const payload = {
        alert_id: "roll-1",
        agent_id: cert.agent_id,
        tenant_id: cert.tenant_id,
        serial_number: cert.serial_number,
        score: 0.95,
        reasons: [],
        event_ids: [],
        triggered_at: iso(0),
      };
      state.storage.sql.exec("INSERT INTO alerts (alert_id, payload, created_at) VALUES ('roll-1', ?, ?)", JSON.stringify(payload), Date.now());
    });
    for (let i = 0; i < 4; i++) await runNow(stub);
    const left = () => runInDurableObject(stub, async (_m: AgentMonitor, s) => s.storage.sql.exec("SELECT alert_id FROM alerts").toArray().length);
    expect(await left()).toBe(1);
    expect(await runInDurableObject(stub, async (m: AgentMonitor) => m.deadLetters())).toEqual([]);
    const sent = origin.calls.filter((c) => c.path === "/internal/v1/risk-alerts");
    expect(sent.length).toBeGreaterThanOrEqual(4);
    expect(sent.every((c) => (JSON.parse(c.body) as { wire_version: number }).wire_version === 2)).toBe(true);
    origin.upgrade();
    await runNow(stub);
    await vi.waitFor(async () => expect(await left()).toBe(0));
  });

  it("a dead-letter report answered 426 stays unreported (retried), and is reported after the upgrade", async () => {
    const { cert, stub } = await monitor();
    const origin = oldOrigin();
    const unreported = () =>
      runInDurableObject(stub, async (_m: AgentMonitor, s) => s.storage.sql.exec("SELECT key FROM dead_letters WHERE reported = 0").toArray().length);
    await runInDurableObject(stub, async (m: AgentMonitor, state) => {
      await m.ingest({ agentId: cert.agent_id, tenantId: cert.tenant_id, serial: cert.serial_number, scopes: cert.scopes }, []);
      state.storage.sql.exec(
        "INSERT INTO dead_letters (key, kind, ref, payload, status, error, attempts, first_failed_at, dead_at, reported) VALUES (?, 'event', 'e-x', '{}', 422, 'refused', 6, ?, ?, 0)",
        `edge:${cert.agent_id}:event:e-x`,
        Date.now() - 1000,
        Date.now(),
      );
    });
    await runNow(stub);
    await runNow(stub);
    expect(origin.calls.filter((c) => c.path === "/internal/v1/dead-letters").length).toBeGreaterThanOrEqual(2);
    expect(await unreported()).toBe(1);
    // Still scheduled: the monitor comes back for it by itself.
    expect(await runInDurableObject(stub, async (_m: AgentMonitor, s) => s.storage.getAlarm())).not.toBeNull();
    origin.upgrade();
    await runNow(stub);
    expect(await unreported()).toBe(0);
  });
});
