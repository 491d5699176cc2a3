import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, expect, it } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

/**
 * fromStore (http/store-unavailable.ts) answers every throw out of a Durable Object call with 503 +
 * Retry-After: 1, including an exception the object's own code throws on every call (a bug, a state
 * it cannot read). Cloudflare marks those `remote: true` and not `retryable`; a reset or overload is
 * `retryable` or `overloaded`. A deterministic failure answered "come back in a second" is retried
 * by every gateway and SDK forever and never pages anyone as a 5xx bug would: it must stay a 500
 * (the transient kinds keep their 503).
 */
it("an agent monitor whose own code throws on every call is a 500, not an endless 503 Retry-After", async () => {
  const { cert, token } = await enrolledAgent();
  const stub = env.AGENT_MONITOR.getByName(cert.agent_id);
  await runInDurableObject(stub, async (obj: AgentMonitor) => {
    const proto = Object.getPrototypeOf(obj) as Record<string, unknown>;
    proto.risk = async function broken() {
      throw new TypeError("Cannot read properties of undefined (reading 'score')");
    };
  });
  // What the caller of a stub sees for such a throw.
  const seen = await stub.risk(cert.agent_id).then(
    () => undefined,
    (e: unknown) => e as { remote?: boolean; retryable?: boolean; overloaded?: boolean },
  );
  // The flags the rule reads, as workerd sets them on a throw of the object's own code.
  expect(seen?.remote).toBe(true);
  expect(seen?.retryable).not.toBe(true);
  const read = () => exports.default.fetch(`http://edge/v1/agents/${cert.agent_id}/risk`, { headers: { authorization: `Bearer ${token}` } });
  for (let i = 0; i < 3; i++) {
    const r = await read();
    expect(r.status).toBe(500);
    expect(r.headers.get("retry-after")).toBeNull();
  }
});
