import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEAD_LETTERS_PATH, err, ok, signInternal, type EdgeRecord, type PublishBatch } from "@kakunin/shared";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { noSigners } from "../src/publish/signers.ts";
import { createLogger } from "../src/observability/logger.ts";
import { riskDecisions, webhookDeliveries, webhookEndpoints } from "../src/db/schema.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

// Structured request logs and Prometheus metrics, on the real app (PGlite and PostgreSQL). The
// logs of a whole run are searched for every secret the run created: none may appear.
for (const kind of dbKinds()) {
  describe(`observability (${kind})`, () => {
    let o: TestOrigin;
    const lines: string[] = [];
    const secrets: string[] = [];
    const metricsToken = "metrics-token-0123456789abcdef";
    let serial = "";

    beforeAll(async () => {
      o = await startTestOrigin(kind, { logger: createLogger({ level: "debug", write: (l) => void lines.push(l) }), env: { KAKUNIN_METRICS_TOKEN: metricsToken } });
      secrets.push(o.adminKey, o.services.edgeSecret, metricsToken);
      // A run that creates every kind of secret: an API key, an ingest token, a signature.
      const key = await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "issuer", role: "issuer" } });
      expect(key.status).toBe(201);
      secrets.push(key.body.data.key);
      const agent = await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key: key.body.data.key, body: agentBody() });
      const cert = await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent.body.data.id}/certify`, { key: key.body.data.key, headers: { "x-request-id": "req-certify-1" } });
      expect(cert.status).toBe(201);
      serial = cert.body.data.serial_number;
      const token = await o.json<{ data: { token: string } }>("POST", `/v1/agents/${agent.body.data.id}/ingest-tokens`, { key: key.body.data.key });
      expect(token.status).toBe(201);
      secrets.push(token.body.data.token);
      await o.json("POST", `/v1/agents/${agent.body.data.id}/sign`, { key: key.body.data.key, body: { payload_b64: btoa("hello"), algorithm: "RSASSA_PKCS1_V1_5_SHA_256" } });
      await o.json("GET", "/v1/agents", { key: "not-a-key-0123456789", headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } });
      await o.json("POST", `/v1/certificates/${cert.body.data.id}/revoke`, { key: key.body.data.key, body: { reason: "test" } });
      // Real delivery failures: an edge that refuses the certificate's record (422) → a publish
      // failure by status and an origin dead letter; an edge that is down → status 0.
      const refusing: EdgeClient = {
        async publish(batch: PublishBatch) {
          const poison = (r: EdgeRecord) => r.kind === "cert" && r.serial_number === serial;
          return batch.records.some(poison) ? err({ status: 422, body: '{"type":"urn:kakunin:problem:validation-failed"}' }) : ok({ applied: batch.records.length, stale: 0 });
        },
      };
      await new Publisher(o.services, refusing, noSigners, { log: () => {} }).drainOnce();
      const second = await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key: key.body.data.key, body: agentBody({ name: "second" }) });
      expect((await o.json("POST", `/v1/agents/${second.body.data.id}/certify`, { key: key.body.data.key })).status).toBe(201);
      const down: EdgeClient = { publish: async () => err("connect ECONNREFUSED") };
      await new Publisher(o.services, down, noSigners, { log: () => {} }).drainOnce();
      // An event the edge gave up on, reported by its AgentMonitor (the signed internal call).
      const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
      const report = JSON.stringify({ letters: [{
        key: `edge:${agent.body.data.id}:event:ev-1`, kind: "event", tenant_id: tenantId, agent_id: agent.body.data.id, ref: "ev-1",
        status: 422, error: "refused", attempts: 6, payload_json: "{}", first_failed_at: new Date().toISOString(),
      }] });
      const reported = await o.request("POST", DEAD_LETTERS_PATH, { key: null, rawBody: report, headers: { ...(await signInternal(o.services.edgeSecret, "POST", DEAD_LETTERS_PATH, report)), "content-type": "application/json" } });
      expect(reported.status).toBe(200);
      // Webhooks behind: one delivery waiting for a minute, one dead-lettered; and an agent awaiting review.
      const now = Date.now();
      const [hook] = await o.services.db.insert(webhookEndpoints).values({ tenantId, url: "https://hooks.example/obs", secret: "whsec_AAAA", keyId: "whk_obs", createdAt: new Date(now - 120_000) }).returning();
      const delivery = (status: "pending" | "dead", ageMs: number) => ({
        tenantId, endpointId: hook!.id, eventType: "io.kakunin.certificate.revoked", payload: {}, status, nextAttemptAt: new Date(now + 60_000), createdAt: new Date(now - ageMs),
      });
      await o.services.db.insert(webhookDeliveries).values([delivery("pending", 90_000), delivery("dead", 600_000)]);
      await o.services.db.insert(riskDecisions).values({
        alertId: `obs-${agent.body.data.id}`, tenantId, agentId: agent.body.data.id, serialNumber: serial, score: 0.9, decision: "flagged", autoRevoke: false,
        reasons: [], eventIds: [], triggeredAt: new Date(now - 300_000),
      });
    }, 120_000);
    afterAll(async () => { await o?.close(); });

    it("logs one JSON line per request with request id, tenant, route template, status and latency", () => {
      const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === "request");
      const certify = records.find((r) => r.request_id === "req-certify-1");
      expect(certify).toMatchObject({ level: "info", method: "POST", route: "/v1/agents/:id/certify", status: 201 });
      expect(typeof certify?.latency_ms).toBe("number");
      expect(certify?.tenant).toMatch(/^[0-9a-f-]{36}$/);
      // A W3C traceparent names the request when no x-request-id is given; a 401 is logged too.
      expect(records.find((r) => r.request_id === "4bf92f3577b34da6a3ce929d0e0e4736")).toMatchObject({ status: 401, trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" });
      for (const r of records) expect(String(r.route)).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/); // templates, never raw ids
    });

    it("never logs a key, token or secret the run created", () => {
      expect(secrets.length).toBeGreaterThanOrEqual(5);
      const all = lines.join("");
      for (const s of secrets) expect(all.includes(s), `a secret (${s.slice(0, 6)}…) reached the logs`).toBe(false);
    });

    it("echoes the request id and invents one when the given one is unusable", async () => {
      const ok = await o.request("GET", "/healthz", { key: null, headers: { "x-request-id": "abc-123" } });
      expect(ok.headers.get("x-request-id")).toBe("abc-123");
      const hostile = await o.request("GET", "/healthz", { key: null, headers: { "x-request-id": "bad\"id {with} spaces" } });
      expect(hostile.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("GET /metrics needs the token when one is configured (401 problem), then serves Prometheus text", async () => {
      const denied = await o.request("GET", "/metrics", { key: null });
      expect(denied.status).toBe(401);
      expect(denied.headers.get("content-type")).toContain("application/problem+json");
      const wrong = await o.request("GET", "/metrics", { key: "metrics-token-wrong-0123456789" });
      expect(wrong.status).toBe(401);
      const res = await o.request("GET", "/metrics", { key: metricsToken });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toMatch(/kakunin_http_requests_total\{method="POST",route="\/v1\/agents\/:id\/certify",status="201"\} 2/);
      expect(text).toMatch(/kakunin_http_request_duration_seconds_bucket\{.*route="\/v1\/agents\/:id\/certify"/);
      expect(text).toMatch(/^kakunin_certificates_issued_total 2$/m);
      expect(text).toMatch(/^kakunin_certificates_revoked_total 1$/m);
      expect(text).toMatch(/kakunin_kms_calls_total\{backend="local",op="sign",outcome="ok"\} [1-9]/);
      expect(text).toMatch(/kakunin_kms_call_duration_seconds_count\{backend="local",op="createKey",outcome="ok"\} [1-9]/);
      expect(text).toMatch(/^kakunin_outbox_pending \d+$/m); // no publisher here: what certify/revoke enqueued waits
      expect(text).toMatch(/^kakunin_outbox_oldest_age_seconds [\d.e+-]+$/m);
      expect(text).toMatch(/^kakunin_archive_pending_batches \d+$/m);
      expect(text).toMatch(/^kakunin_archive_lag_seconds [\d.e+-]+$/m);
      expect(text).toMatch(/^kakunin_origin_process_resident_memory_bytes \d+/m);
      expect(text).toMatch(/^kakunin_publish_failures_total\{status="422"\} [1-9]/m);
      expect(text).toMatch(/^kakunin_publish_failures_total\{status="0"\} [1-9]/m);
      expect(text).toMatch(/^kakunin_dead_letters\{source="origin",kind="publish"\} 1$/m);
      expect(text).toMatch(/^kakunin_dead_letters\{source="edge",kind="event"\} 1$/m);
      expect(text).toMatch(/^kakunin_dead_letters\{source="edge",kind="alert"\} 0$/m); // every series present from the start
      expect(text).toMatch(/^kakunin_dead_letters_oldest_age_seconds [\d.e+-]+$/m);
      // Webhooks not delivered (pending, dead) and the oldest pending one's age; agents awaiting review.
      expect(text).toMatch(/^kakunin_webhook_deliveries\{status="pending"\} 1$/m);
      expect(text).toMatch(/^kakunin_webhook_deliveries\{status="dead"\} 1$/m);
      expect(Number(/^kakunin_webhook_oldest_pending_age_seconds ([\d.e+-]+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(90);
      expect(text).toMatch(/^kakunin_review_queue_agents 1$/m);
      expect(Number(/^kakunin_review_queue_oldest_age_seconds ([\d.e+-]+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(300);
      // The local KeyManager's pool (default target 32; this origin never warms it).
      expect(text).toMatch(/^kakunin_local_key_pool\{state="target"\} 32$/m);
      expect(text).toMatch(/^kakunin_local_key_pool\{state="ready"\} \d+$/m);
      if (kind === "postgres") expect(text).toMatch(/kakunin_db_pool_connections\{state="total"\} \d+/);
      expect(text).not.toContain(serial); // no per-certificate label values: bounded cardinality
    });
  });
}
