import { afterAll, expect, it } from "vitest";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "../support/system.ts";
import { apis, reportFault } from "./support.ts";

/**
 * Fault: the origin is killed with SIGKILL while the edge's agent monitor is forwarding accepted
 * events to it. Events acknowledged (202) by the edge before, during and after the kill must all
 * be stored at the origin exactly once, with no help once the origin is back.
 */
const fx = systemFixture();
let sys: RunningSystem | undefined;
afterAll(async () => {
  await sys?.stop();
  fx.cleanup();
});

it("origin killed -9 during ingest forwarding: every event the edge acknowledged is stored once", async () => {
  sys = await startSystem(fx);
  const { api, certified, edgeHolds } = apis(() => sys!.origin.url, () => sys!.edge.url, fx.adminKey);
  const c = (await certified())!;
  // An agent posts once its certificate is at the edge (before that the edge answers 503 +
  // Retry-After, which is not what this drill is about).
  await edgeHolds([c.serial], "active", 30_000);
  const token = (await api("POST", `/v1/agents/${c.agent}/ingest-tokens`, {})).body.data.token;
  const t0 = Date.now() - 3_600_000;
  let n = 0;
  const acked: string[] = [];
  const post = async (count: number) => {
    const events = Array.from({ length: count }, () => {
      const i = n++;
      return { event_id: `kill-${i}`, timestamp: new Date(t0 + i * 15_000).toISOString(), type: "tool_call", action: "orders.quote", resource: "instrument/EURUSD", outcome: "success", latency_ms: 85 };
    });
    const r = await fetch(`${sys!.edge.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ events }) });
    if (r.status === 202) acked.push(...events.map((e) => e.event_id));
  };
  for (let i = 0; i < 3; i++) await post(40); // forwarding under way
  const kill = sys.origin.stop("SIGKILL");
  await post(40);
  await kill;
  for (let i = 0; i < 2; i++) await post(40); // accepted by the edge while the origin is gone
  expect(acked.length).toBe(240);
  const restartedAt = performance.now();
  await sys.restartOrigin();
  const stored = await pollUntil(async () => {
    const ids: string[] = [];
    let cursor: string | null | undefined = null;
    do {
      const page = await api("GET", `/v1/agents/${c.agent}/events?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
      if (page.status !== 200) return undefined;
      ids.push(...page.body.data.map((e) => e.event_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    return acked.every((id) => ids.includes(id)) ? ids : undefined;
  }, 90_000, 500);
  const duplicates = stored.value.length - new Set(stored.value).size;
  expect(duplicates).toBe(0);
  reportFault({ fault: "origin kill -9 during ingest forward", acknowledged: acked.length, stored: new Set(stored.value).size, duplicates, recoveryMs: performance.now() - restartedAt, note: "recovery includes the origin's restart" });
}, 180_000);
