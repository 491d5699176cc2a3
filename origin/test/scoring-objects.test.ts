import { describe, expect, it } from "vitest";
import {
  acceptAsNormal,
  DEFAULT_SCORING,
  MAX_STATE_BYTES,
  newEpisodeState,
  newState,
  reviveState,
  scoreEvent,
  sustainedAnomaly,
  type MonitorState,
  type ScoredInput,
} from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const SCOPES = ["invoices.*", "vendors.*", "payments.*", "ledger.*"];
const LIFE_CYCLE = ["payments.create", "payments.approve", "payments.execute", "ledger.record"];

/**
 * An accounts-payable agent that works many payments at once: each payment goes create → approve
 * → execute → record (a few are only created and checked, some are looked up again days later),
 * but up to six are in flight together and their steps interleave at random, so the order of the
 * agent's actions says little: every step follows every other somewhere. Only each payment's own
 * life cycle is regular.
 */
function workDays(s: MonitorState, days: number, seed = 3): Score[] {
  const r = rng(seed);
  const out: Score[] = [];
  const score = (e: ScoredInput) => out.push(scoreEvent(s, e, SCOPES));
  let id = 0;
  for (let day = 0; day < days; day++) {
    let t = T0 + day * 86_400_000;
    const inFlight: { id: string; steps: string[] }[] = [];
    for (let n = 0; n < 60 || inFlight.length > 0; ) {
      if (n < 60 && (inFlight.length === 0 || (inFlight.length < 6 && r() < 0.4))) {
        n++;
        const pay = `payment:pay_${id++}`;
        const steps = r() < 0.1 ? ["payments.create", "payments.status"] : [...LIFE_CYCLE];
        inFlight.push({ id: pay, steps });
        // An older payment looked up again (its status, days later).
        if (id > 100 && r() < 0.2) score(ev(`st${id}`, (t += 15_000), "payments.status", `payment:pay_${Math.floor(r() * (id - 50))}`));
        continue;
      }
      const k = Math.floor(r() * inFlight.length);
      const p = inFlight[k]!;
      const action = p.steps.shift()!;
      score(ev(`${p.id}-${action}`, (t += 10_000 + Math.floor(r() * 50_000)), action, action === "ledger.record" ? p.id.replace("payment:", "ledger:") : p.id));
      if (p.steps.length === 0) inFlight.splice(k, 1);
    }
  }
  return out;
}

type Score = ReturnType<typeof scoreEvent>;

function ev(id: string, ts: number, action: string, resource: string): ScoredInput {
  const amount = action.startsWith("payments.") && action !== "payments.status" ? 1200 : undefined;
  return {
    id,
    ts,
    type: action.startsWith("payments.") ? "transaction" : "api_request",
    action,
    resource,
    amount,
    currency: amount ? "EUR" : undefined,
    outcome: "success",
  };
}

describe("object-level sequences (object_step, object_run)", () => {
  it("payments executed before they were approved reach high, though every step is ordinary in the agent's interleaved action order", () => {
    const s = newState();
    workDays(s, 21);
    const at = T0 + 21 * 86_400_000 + 3_600_000;
    // Three payments run backwards (execute, approve, create), interleaved with ordinary work.
    const out = [];
    let t = at;
    for (const k of [0, 1, 2]) {
      const pay = `payment:pay_x${k}`;
      for (const action of ["payments.execute", "payments.approve", "payments.create"])
        out.push(scoreEvent(s, ev(`x${k}-${action}`, (t += 40_000), action, pay), SCOPES));
    }
    // Each step on its own is an ordinary action after an ordinary action for this agent.
    expect(out.every((x) => !x.event.reasons.some((r) => r.feature === "action_novelty"))).toBe(true);
    expect(out.some((x) => x.risk.band === "high")).toBe(true);
    const top = out.find((x) => x.event.band === "high")!;
    expect(top.event.reasons.map((r) => r.feature)).toContain("object_run");
    expect(top.event.reasons.find((r) => r.feature === "object_run")!.detail).toMatch(/of the last 8 events took a step never taken on such an object/);
  });

  it("a step on a payment after its usual last step is judged against every payment that reached that step, not only those touched again", () => {
    const s = newState();
    workDays(s, 21);
    let t = T0 + 21 * 86_400_000 + 3_600_000;
    // An executed payment is normally never touched again on its own resource (its ledger entry is
    // another resource): approving it afterwards is a task done backwards on an object in a
    // terminal state, one step in hundreds of executed payments.
    for (const action of ["payments.create", "payments.approve", "payments.execute"])
      scoreEvent(s, ev(`z-${action}`, (t += 40_000), action, "payment:pay_z"), SCOPES);
    const again = scoreEvent(s, ev("z-again", (t += 40_000), "payments.approve", "payment:pay_z"), SCOPES);
    const step = again.event.reasons.find((r) => r.feature === "object_step");
    expect(step?.detail).toMatch(/'payments.approve' after 'payments.execute' on the same resource: never in \d{3,} objects that reached 'payments.execute'/);
    expect(step!.contribution).toBeGreaterThan(0.3);
    // One such step is medium evidence, not an auto-revocation.
    expect(again.risk.band).not.toBe("high");
  });

  it("one broken life cycle is medium evidence, not an auto-revocation", () => {
    const s = newState();
    workDays(s, 21);
    const at = T0 + 21 * 86_400_000 + 3_600_000;
    const one = scoreEvent(s, ev("one", at, "payments.execute", "payment:pay_y"), SCOPES);
    const step = one.event.reasons.find((r) => r.feature === "object_step");
    expect(step?.detail).toMatch(/'payments.execute' as the first step on a 'payment\/2': never in \d+ such steps/);
    expect(one.event.band).not.toBe("high");
    expect(one.risk.band).not.toBe("high");
  });

  it("a normal agent's ordinary weeks, its re-checks of old payments and a new kind of object stay below high", () => {
    const s = newState();
    const weeks = workDays(s, 21);
    // After its first week (warm-up), ordinary interleaved work never goes high.
    expect(weeks.slice(weeks.length / 3).every((x) => x.risk.band !== "high")).toBe(true);
    // A new collection (refunds) adopted legitimately, run through the usual life cycle: its first
    // touches have no context yet, and its later steps follow the usual ones.
    let t = T0 + 21 * 86_400_000 + 3_600_000;
    const refunds = [];
    for (let i = 0; i < 20; i++)
      for (const action of LIFE_CYCLE.slice(0, 3)) refunds.push(scoreEvent(s, ev(`rf${i}-${action}`, (t += 45_000), action, `refund:rf_${i}`), SCOPES));
    expect(refunds.every((x) => !x.event.reasons.some((q) => q.feature === "object_run"))).toBe(true);
    expect(refunds.every((x) => x.risk.band !== "high")).toBe(true);
  });

  it("taking over payments another system opened in a new region is an adoption, not a run of broken life cycles", () => {
    const s = newState();
    workDays(s, 21);
    let t = T0 + 21 * 86_400_000 + 3_600_000;
    // The agent is handed a second region's queue: payments created elsewhere, each at whatever
    // stage it was left, so its first touch of each is the status, an approval, an execution or
    // the ledger entry. Every one is a first step in a collection (`region-2/3`) it has just met.
    const out = [];
    for (let k = 0; k < 3; k++)
      for (const action of ["payments.status", "payments.approve", "payments.execute", "ledger.record"])
        out.push(scoreEvent(s, ev(`r${k}-${action}`, (t += 30_000), action, `region-2/payment:pay_r${k}-${action}`), SCOPES));
    const run = Math.max(...out.map((x) => x.event.reasons.find((r) => r.feature === "object_run")?.contribution ?? 0));
    expect(run).toBeLessThan(0.3);
    expect(out.every((x) => x.risk.band !== "high")).toBe(true);
  });

  it("steps into tools the agent has used a handful of times are the tools' adoption, not a run of broken life cycles", () => {
    const s = newState();
    workDays(s, 21);
    let t = T0 + 21 * 86_400_000 + 3_600_000;
    // A sanctions screen, a hold and a payee notification, each run by hand a few times one
    // morning, become steps of a payment the next day: create → screen → approve → hold → execute
    // → notify → record. Each step into one of them was never taken on a payment in that state,
    // but that is the tools' own rarity, not a task done backwards: three such steps in seven
    // events were object_run 0.92 (high) before. (Three tools taken in at once are still a change
    // the transition features judge; this test is about object_run only.)
    for (const tool of ["payments.screen", "payments.hold", "payments.notify"])
      for (let i = 0; i < 4; i++) scoreEvent(s, ev(`${tool}-${i}`, (t += 900_000), tool, `vendor:v_${i}`), SCOPES);
    t += 86_400_000;
    const flow = ["payments.create", "payments.screen", "payments.approve", "payments.hold", "payments.execute", "payments.notify", "ledger.record"];
    const out = flow.map((action) =>
      scoreEvent(s, ev(`s-${action}`, (t += 20_000), action, action === "ledger.record" ? "ledger:pay_s" : "payment:pay_s"), SCOPES),
    );
    // The steps into the tools are still noticed, one by one.
    expect(out.filter((x) => x.event.reasons.some((q) => q.feature === "object_step")).length).toBeGreaterThanOrEqual(3);
    const run = Math.max(...out.map((x) => x.event.reasons.find((q) => q.feature === "object_run")?.contribution ?? 0));
    expect(run).toBeLessThan(0.3);
  });

  it("a state stored before object steps existed keeps what it learned and starts them empty; a review clears their run", () => {
    const s = newState();
    workDays(s, 7);
    const old = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
    for (const k of ["objects", "objectCount", "objSteps", "objOut", "objSucc", "objFlags", "objNovel"]) delete old[k];
    const back = reviveState(old);
    expect(back.n).toBe(s.n);
    const at = T0 + 7 * 86_400_000 + 3_600_000;
    const next = scoreEvent(back, ev("after", at, "payments.create", "payment:pay_new"), SCOPES);
    // No object history yet: nothing to judge the first touch by.
    expect(next.event.reasons.some((r) => r.feature.startsWith("object_"))).toBe(false);
    expect(Object.keys(back.objects!)).toEqual(["payment:pay_new"]);
    // Two never-taken steps, then a review clears them: the third does not count them again.
    const t = at + 60_000;
    scoreEvent(s, ev("r1", t, "payments.execute", "payment:pay_r1"), SCOPES);
    scoreEvent(s, ev("r2", t + 30_000, "payments.execute", "payment:pay_r2"), SCOPES);
    acceptAsNormal(s, t + 60_000);
    const third = scoreEvent(s, ev("r3", t + 90_000, "payments.execute", "payment:pay_r3"), SCOPES);
    expect(third.event.reasons.some((r) => r.feature === "object_run")).toBe(false);
  });

  it("late events do not rewrite an object's last step", () => {
    const s = newState();
    workDays(s, 7);
    const at = T0 + 7 * 86_400_000 + 3_600_000;
    scoreEvent(s, ev("a", at, "payments.create", "payment:pay_late"), SCOPES);
    scoreEvent(s, ev("b", at + 60_000, "payments.approve", "payment:pay_late"), SCOPES);
    // A late create (retried delivery) arrives after the approve: the payment's last step stays approve.
    scoreEvent(s, ev("c", at + 30_000, "payments.create", "payment:pay_late"), SCOPES);
    expect(s.objects!["payment:pay_late"]![0]).toBe("payments.approve");
  });

  it("bounded memory: thousands of maximum-length actions over revisited maximum-length resources stay within the object caps", () => {
    const s = newState();
    const r = rng(5);
    const pad = (x: string, n: number) => (x + "#".repeat(n)).slice(0, n);
    for (let i = 0; i < 5_000; i++) {
      scoreEvent(
        s,
        {
          id: `m${i}`,
          ts: T0 + i * 1000,
          type: "tool_call",
          action: pad(`tool.t${Math.floor(r() * 300)}.`, 128),
          resource: pad(`c${Math.floor(r() * 20)}/k${Math.floor(r() * 600)}/`, 512),
          outcome: "success",
        },
        ["*"],
      );
    }
    const c = DEFAULT_SCORING.caps;
    expect(Object.keys(s.objects!).length).toBeLessThanOrEqual(c.objects);
    expect(Object.keys(s.objSteps!).length).toBeLessThanOrEqual(c.objectSteps);
    expect(Object.keys(s.objSteps!).length).toBeGreaterThan(c.objectSteps / 2);
    expect(Object.keys(s.objOut!).length).toBeLessThanOrEqual(c.objectSteps);
    expect(JSON.stringify(s).length).toBeLessThanOrEqual(MAX_STATE_BYTES);
  }, 240_000);
});

describe("a never-taken step repeated task after task (repeated_step)", () => {
  /** An ordinary payment's whole life cycle, starting at `t`; returns the time after its last step. */
  function ordinary(s: MonitorState, id: string, t: number): number {
    for (const action of LIFE_CYCLE)
      scoreEvent(s, ev(`${id}-${action}`, (t += 30_000), action, action === "ledger.record" ? `ledger:${id}` : `payment:${id}`), SCOPES);
    return t;
  }

  /** Payments created, then executed without their approval, one per task, `gapMs` apart, with an ordinary payment between (`between`). */
  function unapproved(s: MonitorState, tasks: number, gapMs: number, between = true): Score[] {
    let t = T0 + 21 * 86_400_000 + 3_600_000;
    const out: Score[] = [];
    for (let k = 0; k < tasks; k++, t += gapMs) {
      scoreEvent(s, ev(`u${k}-create`, t, "payments.create", `payment:pay_u${k}`), SCOPES);
      out.push(scoreEvent(s, ev(`u${k}-execute`, t + 40_000, "payments.execute", `payment:pay_u${k}`), SCOPES));
      if (between) ordinary(s, `pay_o${k}`, t + 60_000);
    }
    return out;
  }

  it("payments executed unapproved in four tasks over two hours reach high, though each one alone is only an odd step", () => {
    const s = newState();
    workDays(s, 21);
    const out = unapproved(s, 4, 35 * 60_000);
    // The first is one broken life cycle: object_step's, medium at most.
    expect(out[0]!.risk.band).not.toBe("high");
    expect(out[0]!.event.reasons.some((r) => r.feature === "repeated_step")).toBe(false);
    // Each later one is a single odd step in its own task (nothing else in it is unusual)...
    expect(out[1]!.risk.band).not.toBe("high");
    // ...but the same never-taken step in task after task is the rarity.
    const last = out[3]!;
    expect(last.risk.band).toBe("high");
    const r = last.event.reasons.find((x) => x.feature === "repeated_step");
    expect(r?.contribution).toBeGreaterThanOrEqual(0.85);
    expect(r!.detail).toMatch(/'payments.execute', a step never taken there before .+, was taken in 4 of the last \d tasks that reached 'payments.create'/);
  });

  it("one task that handles several objects the same new way is one observation, not several", () => {
    const s = newState();
    workDays(s, 21);
    // Six payments executed unapproved within nine minutes: one task (object_step and object_run
    // judge it as that), not six independent tasks done backwards.
    const out = unapproved(s, 6, 90_000, false);
    expect(out.every((x) => !x.event.reasons.some((r) => r.feature === "repeated_step"))).toBe(true);
  });

  it("a step every task now takes raises its alert and then stops being watched: one new path is not an alert per object for hours", () => {
    const s = newState();
    workDays(s, 21);
    // Twelve tasks twenty minutes apart, each executing its payment unapproved (within the watch's 4 h).
    const out = unapproved(s, 12, 20 * 60_000);
    expect(out[3]!.event.reasons.some((r) => r.feature === "repeated_step")).toBe(true);
    expect(out.slice(10).every((x) => !x.event.reasons.some((r) => r.feature === "repeated_step"))).toBe(true);
  });

  it("a watch that has ended by time reads nothing on the first event after its end", () => {
    // The watch lasts 4 h from the wake; its end was applied only when the next event was learned,
    // after it was scored, so a take that was the first event after the end was still read
    // (until 2026-12-06). Two unapproved tasks wake and feed the watch; the third payment is
    // created just before the 4 h and executed just after, with nothing in between.
    const run = (executeAt: number) => {
      const s = newState();
      workDays(s, 21);
      const t = T0 + 21 * 86_400_000 + 3_600_000;
      for (const [k, at] of [t, t + 35 * 60_000].entries()) {
        scoreEvent(s, ev(`v${k}-create`, at, "payments.create", `payment:pay_v${k}`), SCOPES);
        scoreEvent(s, ev(`v${k}-execute`, at + 40_000, "payments.execute", `payment:pay_v${k}`), SCOPES);
        ordinary(s, `pay_p${k}`, at + 60_000);
      }
      const woke = t + 40_000;
      scoreEvent(s, ev("v2-create", woke + 4 * 3_600_000 - 60_000, "payments.create", "payment:pay_v2"), SCOPES);
      return scoreEvent(s, ev("v2-execute", woke + executeAt, "payments.execute", "payment:pay_v2"), SCOPES);
    };
    // Just inside the watch, the third task is read (the test fails for a reason, not by setup)...
    expect(run(4 * 3_600_000 - 30_000).event.reasons.some((r) => r.feature === "repeated_step")).toBe(true);
    // ...and just after its end, nothing.
    expect(run(4 * 3_600_000 + 60_000).event.reasons.some((r) => r.feature === "repeated_step")).toBe(false);
  });

  it("a review shown the repeated step ends its watch", () => {
    const s = newState();
    workDays(s, 21);
    const out = unapproved(s, 3, 35 * 60_000);
    expect(out[2]!.event.reasons.some((r) => r.feature === "repeated_step")).toBe(true);
    acceptAsNormal(s, T0 + 21 * 86_400_000 + 3 * 3_600_000, DEFAULT_SCORING, { features: ["repeated_step"] });
    let t = T0 + 21 * 86_400_000 + 4 * 3_600_000;
    scoreEvent(s, ev("after-create", t, "payments.create", "payment:pay_after"), SCOPES);
    const after = scoreEvent(s, ev("after-execute", (t += 40_000), "payments.execute", "payment:pay_after"), SCOPES);
    expect(after.event.reasons.some((r) => r.feature === "repeated_step")).toBe(false);
  });

  it("a first touch of objects the agent touched and has since forgotten, task after task, wakes no watch", () => {
    // Old payments (created weeks ago, since dropped from the last 128 objects whose steps the agent
    // remembers, still among its known resources) executed again: their first touch in memory, not
    // in their life, and nothing to watch however often it recurs.
    const known = newState();
    workDays(known, 21);
    const old = (k: number) => `payment:pay_${900 + k}`;
    for (const k of [0, 1, 2, 3]) {
      expect(known.resources[old(k)]).toBeDefined();
      expect(known.objects?.[old(k)]).toBeUndefined();
    }
    for (let k = 0, t = T0 + 21 * 86_400_000 + 3_600_000; k < 4; k++, t += 35 * 60_000) {
      const x = scoreEvent(known, ev(`f${k}`, t, "payments.execute", old(k)), SCOPES);
      expect(x.event.reasons.some((r) => r.feature === "repeated_step")).toBe(false);
      ordinary(known, `pay_g${k}`, t + 60_000);
    }
  });
});

describe("the episode scan and object_run's window", () => {
  it("a lasting object_run marks again only once its 8-event window holds none of the events it marked on", () => {
    // object_run counts never-taken steps among the last 8 events. The scan let it mark again as a
    // lasting state after 5 new events (its EVENT_WINDOWS entry, until 2026-12-06), while 3 of
    // the 8 events it was reading were the ones it had already marked on.
    const ep = newEpisodeState();
    const t0 = T0 + 21 * 86_400_000;
    const level = 1;
    const halfLife = DEFAULT_SCORING.sustained.halfLifeMs;
    const marks = () => ep.w.filter((w) => w.f === "object_run").length;
    const at = (ts: number) => {
      // The held level decays as freshEvidence decays it: the statistic is not growing, only lasting.
      const held = { object_run: level * 0.5 ** ((ts - t0) / halfLife) };
      sustainedAnomaly(ep, { ts, novel: 0, top: "", held, now: { object_run: level }, runs: {} }, DEFAULT_SCORING);
    };
    at(t0);
    expect(marks()).toBe(1);
    // Six minutes on (past the 5 min a lasting state waits), seven more events still at medium:
    // the window of the last eight still holds the event it marked on.
    for (let i = 1; i <= 7; i++) at(t0 + 6 * 60_000 + i * 1_000);
    expect(marks()).toBe(1);
    // The eighth has replaced it: the window is all new events, and the lasting state marks again
    // (until 2026-12-06 the scan waited one event more than the window holds).
    at(t0 + 6 * 60_000 + 8 * 1_000);
    expect(marks()).toBe(2);
  });
});
