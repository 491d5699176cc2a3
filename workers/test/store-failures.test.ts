import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, expect, it } from "vitest";
import { OCSP_TRY_LATER } from "@kakunin/shared";
import { ledger } from "../src/ledger/client.ts";
import type { StatusLedger } from "../src/ledger/status-ledger.ts";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env, verify } from "./fixtures.ts";
import { REQUEST_B64 } from "./ocsp-fixtures.ts";

afterEach(async () => {
  await reset();
});

interface Problem {
  type: string;
  status: number;
  detail: string;
}

/**
 * Makes the next call of `method` on the Durable Object behind `stub` throw, as an object does
 * while it is reset by a deploy, overloaded, or its storage fails. RPC calls the class's method, so
 * the prototype's is swapped for one call (as ingest-monitor-failure.test.ts does).
 */
async function failNextCall<O extends AgentMonitor | StatusLedger>(stub: DurableObjectStub<O>, method: keyof O & string): Promise<void> {
  await runInDurableObject(stub, async (obj: O) => {
    const proto = Object.getPrototypeOf(obj) as Record<string, unknown>;
    const real = proto[method];
    proto[method] = async function failOnce() {
      proto[method] = real;
      // What the platform throws for a reset: `retryable` (a throw of the object's own code is a 500, store-failure-is-a-bug.test.ts).
      throw Object.assign(new Error("Durable Object reset because its code was updated."), { retryable: true });
    };
  });
}

/** A store that did not answer is this edge being unavailable for a moment: 503 + Retry-After, a problem, never cached. */
async function expectUnavailable(r: Response): Promise<Problem> {
  expect(r.status, await r.clone().text()).toBe(503);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(r.headers.get("cache-control")).toBe("no-store");
  const p = await r.json<Problem>();
  expect(p.status).toBe(503);
  expect(p.detail).not.toMatch(/Durable Object reset/);
  return p;
}

/**
 * POST /v1/events already answered a failing agent monitor with 503 monitor-unavailable; the edge's
 * other calls into its Durable Objects answered the same failure with 500 "An unexpected error
 * occurred": the agent's risk read, a `?consistency=strong` verify (the status ledger) and an ingest
 * whose certificate KV has not caught up with (the ledger fallback). A 500 tells a client the edge
 * is broken; a 503 with Retry-After tells it to come back, which is what a reset object needs.
 */
it("GET /v1/agents/:id/risk: a failing agent monitor is 503 monitor-unavailable, then answers", async () => {
  const { cert, token } = await enrolledAgent();
  await failNextCall(env.AGENT_MONITOR.getByName(cert.agent_id), "risk");
  const read = () => exports.default.fetch(`http://edge/v1/agents/${cert.agent_id}/risk`, { headers: { authorization: `Bearer ${token}` } });
  expect((await expectUnavailable(await read())).type).toBe("urn:kakunin:problem:monitor-unavailable");
  expect((await read()).status).toBe(200);
});

it("GET /v1/verify/:serial?consistency=strong: a failing ledger shard is 503, then answers", async () => {
  const { cert } = await enrolledAgent();
  const key = `cert:${cert.serial_number}`;
  await failNextCall(ledger(env, key), "get");
  expect((await expectUnavailable(await verify(cert.serial_number, "?consistency=strong"))).type).toBe("urn:kakunin:problem:edge-store-unavailable");
  const again = await verify(cert.serial_number, "?consistency=strong");
  expect(again.status).toBe(200);
});

it("POST /v1/events: a failing ledger fallback (KV has not caught up) is 503, then the batch is accepted", async () => {
  const { cert, token } = await enrolledAgent();
  const key = `cert:${cert.serial_number}`;
  await env.CERT_STATUS.delete(key);
  await failNextCall(ledger(env, key), "get");
  const post = () =>
    exports.default.fetch("http://edge/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        event_id: "s-1",
        timestamp: new Date(Date.now() - 1000).toISOString(),
        type: "tool_call",
        action: "orders.place",
        outcome: "success",
      }),
    });
  expect((await expectUnavailable(await post())).type).toBe("urn:kakunin:problem:edge-store-unavailable");
  const again = await post();
  expect(again.status, await again.clone().text()).toBe(202);
});

/** KV reads failing (the binding throws) answer like a failing ledger: 503 problems, and OCSP's own tryLater. */
it("a failing KV read is 503 on verify, the DID document and the CRL, and tryLater on OCSP", async () => {
  const { cert } = await enrolledAgent();
  const kv = env.CERT_STATUS as unknown as { get: (...args: unknown[]) => Promise<unknown> };
  const real = kv.get;
  kv.get = () => Promise.reject(new Error("KV GET failed: 500 Internal Server Error"));
  try {
    for (const path of [`/v1/verify/${cert.serial_number}`, `/v1/agents/${cert.agent_id}/did.json`, `/v1/crl/${cert.tenant_id}`]) {
      const r = await exports.default.fetch(`http://edge${path}`);
      expect({ path, type: (await expectUnavailable(r)).type }).toEqual({ path, type: "urn:kakunin:problem:edge-store-unavailable" });
    }
    // OCSP has no HTTP error statuses (RFC 6960 §2.3): the answer is a DER tryLater, as for an unsigned response.
    const ocsp = await exports.default.fetch(`http://edge/v1/ocsp/${encodeURIComponent(REQUEST_B64)}`);
    expect(ocsp.status).toBe(200);
    expect(ocsp.headers.get("content-type")).toBe("application/ocsp-response");
    expect(ocsp.headers.get("cache-control")).toBe("no-store");
    expect(new Uint8Array(await ocsp.arrayBuffer())).toEqual(new Uint8Array(OCSP_TRY_LATER));
  } finally {
    kv.get = real;
  }
});
