import { describe, expect, it } from "vitest";
import { acceptAsNormal, newState, reviveState, scoreEvent, toScoredInput, type AgentEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const SCOPES = ["payments.*", "ledger.*", "reports.*"];

/**
 * Three weeks of a payments agent that exercises every part of the state: interleaved payment
 * life cycles (object steps), amounts in two currencies, read volume, new resources, errors,
 * evening work, then a night session, a dormant tool woken, a burst, a backwards payment and a big ticket.
 */
function stream(): ScoredInput[] {
  const r = rng(5);
  const out: ScoredInput[] = [];
  let id = 0;
  const push = (ts: number, action: string, resource: string, extra: Partial<ScoredInput> = {}) =>
    out.push({
      id: `e${id++}`,
      ts,
      type: action.startsWith("payments.") ? "transaction" : "api_request",
      action,
      resource,
      outcome: r() < 0.02 ? "error" : "success",
      ...extra,
    });
  for (let day = 0; day < 21; day++) {
    let t = T0 + day * 86_400_000 + Math.floor(r() * 3_600_000);
    for (let k = 0; k < 40; k++) {
      const pay = `payment:p${day}-${k}`;
      const amount = Math.round(500 + r() * 1500);
      const currency = r() < 0.7 ? "EUR" : "USD";
      for (const action of ["payments.create", "payments.approve", "payments.execute"])
        push((t += 20_000 + Math.floor(r() * 200_000)), action, pay, { amount, currency });
      push((t += 5_000), "ledger.record", pay.replace("payment:", "ledger:"));
      if (r() < 0.1) push((t += 30_000), "reports.read", `reports/${day}`, { records: Math.floor(10 + r() * 90) });
    }
  }
  const end = T0 + 21 * 86_400_000;
  for (let i = 0; i < 20; i++) push(end + 2 * 3_600_000 + i * 90_000, "payments.approve", `payment:n${i}`, { amount: 900, currency: "EUR" });
  // A declared tool it never used, woken and driven on its own (young-tools.ts).
  for (let i = 0; i < 10; i++) push(end + 6 * 3_600_000 + i * 60_000, "payments.refund", `payment:r${i}`, { amount: 700, currency: "EUR" });
  for (let i = 0; i < 120; i++) push(end + 10 * 3_600_000 + i * 400, "reports.read", `reports/x${i}`, { records: 5_000 });
  for (const action of ["payments.execute", "payments.approve", "payments.create"])
    push(end + 11 * 3_600_000 + out.length, action, "payment:back", { amount: 1000, currency: "EUR" });
  push(end + 12 * 3_600_000, "payments.create", "payment:big", { amount: 250_000, currency: "EUR" });
  return out;
}

const run = (events: readonly ScoredInput[], storeEvery: number) => {
  let s: MonitorState = newState();
  return events.map((e, i) => {
    const r = scoreEvent(s, e, SCOPES);
    // How the Durable Object keeps it: JSON in SQLite, reloaded after an eviction or a restart.
    if ((i + 1) % storeEvery === 0) s = reviveState(JSON.parse(JSON.stringify(s)));
    if (i === events.length - 30) acceptAsNormal(s, e.ts);
    return r;
  });
};

describe("scores do not depend on when the agent's state was stored and reloaded", () => {
  it("a stream scored in memory and the same stream with the state stored as JSON every 7 events give identical scores, bands and reasons", () => {
    const events = stream();
    const memory = run(events, Number.MAX_SAFE_INTEGER);
    const stored = run(events, 7);
    // The stream must reach the features whose state is stored: not a test of an idle agent.
    const features = new Set(memory.flatMap((x) => x.event.reasons.map((r) => r.feature)));
    for (const f of ["unusual_hour", "rate_burst", "object_step", "amount_over_max", "action_novelty", "young_tool"]) expect(features, f).toContain(f);
    expect(memory.some((x) => x.risk.band === "high")).toBe(true);
    expect(stored).toEqual(memory);
  });
});

describe("read volumes near the largest double", () => {
  it("an attribute of 1.79e308 records is read as at most 1e15: no Infinity in the state, so storing it as JSON (null) changes no score", () => {
    // attributes are free-form, so the schema does not bound `records` / `bytes`; two of these summed
    // to Infinity in the hour's volume, JSON wrote it as null, and the events after it scored 0.77
    // in memory but 0 after a reload.
    const events: ScoredInput[] = [];
    const read = (i: number, ts: number, records: number) => {
      const e: AgentEvent = {
        event_id: `r${i}`,
        timestamp: new Date(ts).toISOString(),
        type: "data_access",
        action: "reports.read",
        resource: `reports/${i % 40}`,
        outcome: "success",
        attributes: { records },
      };
      events.push(toScoredInput(e));
    };
    let i = 0;
    for (let day = 0; day < 10; day++) for (let k = 0; k < 30; k++) read(i++, T0 + day * 86_400_000 + k * 120_000, 50 + (k % 7) * 10);
    const end = T0 + 10 * 86_400_000;
    read(i++, end, 1.79e308);
    read(i++, end + 60_000, 1.79e308);
    for (let k = 0; k < 20; k++) read(i++, end + 3_600_000 + k * 60_000, 60);
    expect(events.at(-21)?.records).toBe(1e15);
    expect(run(events, 1)).toEqual(run(events, Number.MAX_SAFE_INTEGER));
  });
});
