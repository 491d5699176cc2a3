import type { ScoredInput } from "../events.ts";
import type { ScoringConfig } from "./config.ts";
import type { Reason } from "./features.ts";
import { isFirstTouch } from "./object-steps.ts";
import { decayedAt, type MonitorState } from "./state.ts";
import { poolWatch, wokenEvidence, wokenShare } from "./woken.ts";

/**
 * Repeated steps (`repeated_step`): an object step this agent had never taken (a refund before the
 * lookup, an alert closed before its evidence, a payment executed unapproved), taken again on the
 * next objects that reach the same state. object_step judges each such step on its own, and one is
 * rare but not alarming: a life cycle breaks now and then. After its first use the step is no
 * longer never-taken, and four alerts closed unread over two hours, each a few events apart,
 * were four mild surprises that never reached high. What is rare is the share: the woken step was
 * taken in k of the n tasks that reached its state since it woke (TASK_MS), which is a binomial
 * tail at the share a woken step of this agent is expected to take (woken.wokenShare: the step's
 * own share of the state's objects before it woke, add-½, unless the agent's earlier woken steps
 * took more). A step the
 * agent's life cycle has really changed to take (a new approval path) takes that share too, and
 * its first days read as repeated steps like an attack; the review that clears them ends the watch.
 *
 * Judged family-wise like young_tool (woken.wokenEvidence): the tail is read at each of the n tasks
 * and over every step the agent has woken in its history (object-steps' decayed count of
 * never-taken steps), so x = −ln(n · wakes · P). Memory: at most MAX_WATCHES watches of { context,
 * action, n, k, time, share, task start, task taken }, each for WATCH_REACHES tasks, WATCH_TAKES
 * takes or WATCH_MS, whichever comes first, and two decayed counts.
 */
export interface StepWatch {
  /** The state (object-steps' context key), the woken step, tasks that reached the state since it woke and took the step among them (the waking one excluded), when it woke, the step's share of the state's objects then. */
  c: string;
  a: string;
  n: number;
  k: number;
  t: number;
  p: number;
  /** When the current task on this state began (its first reach), and whether the step was taken in it (1). */
  l: number;
  lk: 0 | 1;
}

/**
 * A watch lasts this many tasks reaching its state, or this long after the step woke, whichever
 * is first: a working morning, long enough for a task done backwards every half hour or so to
 * repeat, short enough that the agent's ordinary rare steps weeks apart are never one run.
 */
const WATCH_REACHES = 64;
const WATCH_MS = 4 * 3_600_000;
/**
 * Reaches of the state within this long of the first one of a task are that task: one
 * observation, taken if any of them took the step. A task handles its objects alike (three
 * datasets downloaded and read in one go), so its objects are not independent draws; separate
 * tasks are. Ten minutes: longer than one task's steps, shorter than the gap between tasks.
 */
const TASK_MS = 10 * 60_000;
/**
 * A watch also ends once the step has been taken in this many tasks: by then it has raised its
 * alert (an attack is high from its third or fourth), or it is the state's new path, and the pool
 * learns that this agent's woken steps can take their state's whole share.
 */
const WATCH_TAKES = 8;
/** Steps watched at once (the oldest watch gives way). */
const MAX_WATCHES = 4;
/** Weight (tasks) of the step's own share as a prior before the agent's woken steps speak: one watch. */
const PRIOR_REACHES = WATCH_REACHES;

/**
 * A watch's counts once an event reaches its state (`take`: the event takes the step): a new task
 * adds a reach, and a take if it takes the step; within the current task, only its first take counts.
 */
function withTask(w: StepWatch, ts: number, take: boolean): Pick<StepWatch, "n" | "k" | "l" | "lk"> {
  if (ts - w.l >= TASK_MS) return { n: w.n + 1, k: w.k + (take ? 1 : 0), l: ts, lk: take ? 1 : 0 };
  return take && w.lk === 0 ? { n: w.n, k: w.k + 1, l: w.l, lk: 1 } : { n: w.n, k: w.k, l: w.l, lk: w.lk };
}

/**
 * A watch still running at `ts`. Scoring reads only these: a watch ends when the next event is
 * learned, after that event was scored, so until 2026-12-06 a take that was the first event after
 * the watch's time ran out was still read against it.
 */
function live(w: StepWatch, ts: number): boolean {
  return w.n < WATCH_REACHES && w.k < WATCH_TAKES && ts - w.t < WATCH_MS;
}

/** `ctx`: the event's object context (object-steps' contextOf), before it is learned. */
export function repeatedStep(s: MonitorState, e: ScoredInput, ctx: string | undefined, cfg: ScoringConfig): Reason | undefined {
  if (ctx === undefined) return undefined;
  const w = s.stepWatch?.find((x) => x.c === ctx && x.a === e.action && live(x, e.ts));
  if (!w) return undefined;
  // The watch as this event (a take) will leave it.
  const { n, k } = withTask(w, e.ts, true);
  // Two repeats after the waking one: a single repeat is object_step's (still rare in its context).
  if (k < 2) return undefined;
  const hl = cfg.halfLife.behaviour;
  // Its own share of the state's objects before it woke, unless the agent's woken steps took more.
  const p = wokenShare(s.stepPool, w.p, PRIOR_REACHES, e.ts, hl);
  const contribution = wokenEvidence(s, e.ts, k, n, p, decayedAt(s.objNovel, e.ts, hl), cfg.repeatedStep, cfg);
  if (contribution < 0.01) return undefined;
  return {
    feature: "repeated_step",
    contribution,
    detail: `'${e.action}', a step never taken there before ${new Date(w.t).toISOString()}, was taken in ${k + 1} of the last ${n + 1} tasks that reached '${w.c}' (expected share ${(p * 100).toFixed(1)}%)`,
  };
}

/**
 * After scoring (on-time events only): expired watches end, every watch on this event's state
 * counts it, and a never-taken step (object-steps' `novel`, at share `p` of its state's objects) not
 * yet watched starts one.
 */
export function learnRepeatedStep(s: MonitorState, e: ScoredInput, ctx: string | undefined, cfg: ScoringConfig, woke?: { p: number }): void {
  if (!s.stepWatch && !woke) return;
  const hl = cfg.halfLife.behaviour;
  const watches: StepWatch[] = [];
  for (const w of s.stepWatch ?? []) {
    if (live(w, e.ts)) watches.push(w);
    else s.stepPool = poolWatch(s.stepPool, w.k, w.n, e.ts, hl);
  }
  for (const w of watches) if (w.c === ctx) Object.assign(w, withTask(w, e.ts, w.a === e.action));
  // Only a step from a state the agent remembers: a "first touch" may be an object it touched before
  // and has since forgotten (object-steps remembers the last caps.objects), and a batch of old
  // orders received at once is then a run of first touches by a step that never starts one, not a
  // life cycle broken. First touches of new objects wake none either: tried, they caught nothing
  // more on worlds A, B or C and cost one episode on world B's seed 3 (a reversed KYC task whose
  // wrong first step woke a watch beside the one on its reopened case, which then read 0.79, not 0.92).
  if (ctx !== undefined && !isFirstTouch(ctx) && woke && !watches.some((w) => w.c === ctx && w.a === e.action)) {
    watches.push({ c: ctx, a: e.action, n: 0, k: 0, t: e.ts, p: woke.p, l: e.ts, lk: 1 });
    if (watches.length > MAX_WATCHES) {
      const gone = watches.shift()!;
      s.stepPool = poolWatch(s.stepPool, gone.k, gone.n, e.ts, hl);
    }
  }
  // Assigned, never deleted (young-tools.ts: `delete` slows every later field read on the state).
  s.stepWatch = watches.length > 0 ? watches : undefined;
}
