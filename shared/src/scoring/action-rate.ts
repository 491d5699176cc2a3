import type { ScoredInput } from "../events.ts";
import { curve, type ScoringConfig } from "./config.ts";
import { conf, type Reason } from "./features.ts";
import type { MonitorState } from "./state.ts";

/**
 * One action's minute counts (`action_rate`): the epoch minute it was last used in (`m`), its calls
 * in that minute (`c`) and in the minute before it (`p`, 0 unless that minute was the one before),
 * its busiest closed minute (`top`, decayed) and number of active minutes (`n`, decayed), both with
 * the behaviour half-life to the time of the last fold (`t`); and the closed minutes not yet learned
 * (`q`: the busiest of them, `qn`: how many, `qt`: when the first of them started). Nine numbers per
 * action, at most caps.actions actions.
 */
export interface ActionMinutes {
  m: number;
  c: number;
  p: number;
  top: number;
  n: number;
  t: number;
  q: number;
  qn: number;
  qt: number;
}

const MINUTE = 60_000;
/** The calls of the event's action in the last 60 s (this one included), its own peak and its active minutes; undefined for an event behind the action's latest minute. */
export interface ActionCount {
  k: number;
  peak: number;
  n: number;
}

function decayTo(a: ActionMinutes, t: number, hl: number): void {
  if (t <= a.t) return;
  const f = Math.pow(0.5, (t - a.t) / hl);
  a.top *= f;
  a.n *= f;
  a.t = t;
}

/**
 * Closed minutes are learned `lag` after the first of them started (cfg.hourLagMs, as the hour
 * profiles learn): a loop's own first minutes do not become the yardstick its next minutes are
 * judged on, and an agent's new daily batch is its own peak by the next day.
 */
function learnPending(a: ActionMinutes, now: number, lag: number, hl: number): void {
  if (a.qn === 0 || now - a.qt < lag) return;
  decayTo(a, a.qt, hl);
  a.top = Math.max(a.top, a.q);
  a.n += a.qn;
  a.q = 0;
  a.qn = 0;
}

function close(a: ActionMinutes, count: number, at: number): void {
  if (a.qn === 0) a.qt = at;
  a.q = Math.max(a.q, count);
  a.qn++;
}

/**
 * Counts the event into its action's minute (closing the action's previous minute first) and
 * returns the action's calls in the last 60 s: this minute's count plus the previous minute's
 * weighted by the share of it still inside the sliding minute (the usual two-bucket estimate of a
 * sliding window). An event behind the action's latest minute (late) is counted into the previous
 * minute if it is that one, and not judged.
 */
export function countActionMinute(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): ActionCount | undefined {
  const map = (s.actionMinutes ??= Object.create(null) as Record<string, ActionMinutes>);
  const hl = cfg.halfLife.behaviour;
  const minute = Math.floor(e.ts / MINUTE);
  let a = map[e.action];
  if (!a) {
    a = map[e.action] = { m: minute, c: 0, p: 0, top: 0, n: 0, t: minute * MINUTE, q: 0, qn: 0, qt: 0 };
    evict(map, e.action, cfg.caps.actions);
  }
  if (minute < a.m) {
    if (minute === a.m - 1) a.p++;
    return undefined;
  }
  if (minute > a.m) {
    if (a.c > 0) close(a, a.c, a.m * MINUTE);
    a.p = minute === a.m + 1 ? a.c : 0;
    a.m = minute;
    a.c = 0;
  }
  a.c++;
  learnPending(a, e.ts, cfg.hourLagMs, hl);
  decayTo(a, minute * MINUTE, hl);
  const inside = 1 - (e.ts - minute * MINUTE) / MINUTE;
  return { k: a.c + a.p * inside, peak: a.top, n: a.n };
}

/** Past the cap, the action used least recently goes (O(actions) only when a new action arrives). */
function evict(map: Record<string, ActionMinutes>, keep: string, cap: number): void {
  let size = 0;
  let oldest = "";
  let at = Infinity;
  for (const k in map) {
    size++;
    if (k !== keep && map[k]!.m < at) {
      at = map[k]!.m;
      oldest = k;
    }
  }
  if (size > cap && oldest) delete map[oldest];
}

/**
 * Calls of this event's action in the last 60 s against the agent's own busy minutes FOR THAT
 * ACTION, x = ln((k + 1) / (peak + 2)), read on rate_burst's curve (the same statistic, per action).
 * The action's peak is its busiest minute learned so far (closed minutes are learned cfg.hourLagMs
 * later, learnPending), with the agent-wide busy minute (ratePeak) as a prior worth one active
 * minute: (n · own + agent) / (n + 1), never below the action's own. After n exchangeable minutes
 * the next one is the busiest yet with probability 1 / (n + 1), so that is the weight the agent-wide
 * yardstick keeps: a tool used for the first time may take the whole of a busy minute without being
 * a burst, a tool the agent has called about once a minute for dozens of minutes is judged on its
 * own minutes, and called 180 times in one it is a runaway loop, however busy the agent is with its
 * other tools (rate_burst judges only the total). A tool it calls 100 times a minute in batches
 * has those batches as its peak.
 */
export function actionRate(s: MonitorState, e: ScoredInput, count: ActionCount, cfg: ScoringConfig): Reason | undefined {
  if (s.minuteCounts.length < 5) return undefined;
  const peak = Math.max(count.peak, (count.n * count.peak + s.ratePeak) / (count.n + 1));
  const x = Math.log((count.k + 1) / (peak + 2));
  const contribution = curve(x, cfg.rateBurst) * conf(s.minuteCounts.length, cfg.warmup.rate);
  if (contribution < 0.01) return undefined;
  return {
    feature: "action_rate",
    contribution,
    detail: `${Math.round(count.k)} calls of '${e.action}' in the last minute vs at most ~${Math.round(peak)}/min usually`,
  };
}
