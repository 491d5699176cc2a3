import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * latency compares an event's latency with the agent's recent ones (median and MAD of the last 128).
 * A run of identical latencies (a caching proxy, a stub, a retry loop answered from memory) fills
 * that window with one value: its MAD is 0, and every ordinary latency after it read as an outlier,
 * each one medium evidence, so a clean agent escalated to high on ordinary work.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAY0 = Date.UTC(2026, 1, 2); // a Monday
const SCOPES = ["claims.*"];
const STEPS = ["claims.intake", "claims.assess", "claims.approve", "claims.pay"];

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** One claim task from `t`; latencies log-normal around 300 ms unless `fixed`. */
function task(t: number, id: string, r: () => number, fixed?: number): ScoredInput[] {
  let at = t;
  return STEPS.map((action, i) => {
    if (i > 0) at += 15_000 + Math.floor(r() * 25_000);
    const latencyMs = fixed ?? Math.round(300 * Math.exp(0.4 * gauss(r)));
    return { id: `${id}-${i}`, ts: Math.floor(at), type: "tool_call", action, resource: `claims/${id}`, outcome: "success", latencyMs };
  });
}

/** Working days 08–17 UTC, a task every 1–3 minutes; `fixed(t)` gives a constant latency for a task starting at t. */
function work(s: MonitorState, days: number[], r: () => number, fixed: (t: number) => number | undefined = () => undefined): ReturnType<typeof scoreEvent>[] {
  const out: ReturnType<typeof scoreEvent>[] = [];
  for (const d of days)
    for (let t = DAY0 + d * DAY + 8 * HOUR; t < DAY0 + d * DAY + 17 * HOUR; t += 60_000 + r() * 120_000)
      for (const e of task(t, `c${Math.floor(t / 1000)}`, r, fixed(t))) out.push(scoreEvent(s, e, SCOPES));
  return out;
}

describe("latency against the agent's own spread", () => {
  it("two hours of identical latencies (a caching proxy) do not make the ordinary latencies after them outliers", () => {
    const r = rng(41);
    const s = newState();
    work(
      s,
      Array.from({ length: 20 }, (_, d) => d),
      r,
    );
    const day = DAY0 + 20 * DAY;
    const cached = (t: number) => (t >= day + 10 * HOUR && t < day + 12 * HOUR ? 250 : undefined);
    const out = work(s, [20], r, cached);
    expect(out.length).toBeGreaterThan(900);
    for (const x of out) {
      expect(x.event.band).not.toBe("high");
      expect(x.risk.band).not.toBe("high");
    }
    // After the cached hours, ordinary latencies are not medium evidence one after another.
    const after = out.filter((_, i) => i > out.length - 200);
    const lat = after.filter((x) => (x.event.reasons.find((f) => f.feature === "latency")?.contribution ?? 0) >= 0.3).length;
    expect(lat).toBeLessThan(10);
  }, 60_000);

  it("a call two hundred times slower than the agent's usual is still a latency outlier", () => {
    const r = rng(42);
    const s = newState();
    work(
      s,
      Array.from({ length: 10 }, (_, d) => d),
      r,
    );
    const at = DAY0 + 10 * DAY + 9 * HOUR;
    const slow = scoreEvent(s, { ...task(at, "slow", r)[0]!, latencyMs: 60_000 }, SCOPES);
    expect(slow.event.reasons.find((f) => f.feature === "latency")?.contribution ?? 0).toBeGreaterThanOrEqual(0.3);
  }, 60_000);
});
