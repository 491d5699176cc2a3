import type { EpisodeMark } from "./features.ts";
import { dict, type MonitorState } from "./state.ts";
import type { YoungWatch } from "./young-tools.ts";

/**
 * An event more than this much older than the agent's latest is late: history sent after newer
 * events (a backfill, another worker's queue), not the agent's next step. A minute covers
 * concurrent workers and clock skew; older than that, a filler no longer counts in the live
 * minute's rate, so it would cost the agent nothing.
 */
export const LATE_MS = 60_000;

/**
 * The scorer's recency windows, the statistics over the agent's last few events rather than its
 * history: the last 20 outcomes, the novelty and never-seen-step runs, the step-surprise run, the
 * previous action, the object-step flags of the last 8 events, the short action mix, the young-tool
 * watches (counted in events), the evidence already shown in the current episode and the episode
 * scan's one-hour window. `t`: the newest event time in this lane.
 */
export interface Windows {
  t: number;
  outcomes: number[];
  noveltyRun: number;
  seqRun: number;
  seqShort: number;
  seqLast?: number[];
  prevAction: string | null;
  objFlags?: number;
  mixShort: Record<string, number>;
  young?: YoungWatch[];
  held?: Record<string, number>;
  heldT: number;
  w: EpisodeMark[];
  lvl?: Record<string, number>;
  lvlT?: number;
  since?: Record<string, number>;
  sinceK?: Record<string, number>;
}

/** The live windows, by reference (they are put back as they are). */
function take(s: MonitorState, t: number): Windows {
  const ep = s.episode;
  return {
    t,
    outcomes: s.outcomes,
    noveltyRun: s.noveltyRun,
    seqRun: s.seqRun,
    seqShort: s.seq.short,
    seqLast: s.seq.last,
    prevAction: s.prevAction,
    objFlags: s.objFlags,
    mixShort: s.mixShort,
    young: s.young,
    held: s.cusum.held,
    heldT: s.cusum.t,
    w: ep?.w ?? [],
    lvl: ep?.lvl,
    lvlT: ep?.lvlT,
    since: ep?.since,
    sinceK: ep?.sinceK,
  };
}

function put(s: MonitorState, w: Windows): void {
  s.outcomes = w.outcomes;
  s.noveltyRun = w.noveltyRun;
  s.seqRun = w.seqRun;
  s.seq.short = w.seqShort;
  s.seq.last = w.seqLast;
  s.prevAction = w.prevAction;
  s.objFlags = w.objFlags;
  s.mixShort = w.mixShort;
  s.young = w.young;
  s.cusum = { ...s.cusum, held: w.held, t: w.heldT };
  if (s.episode) Object.assign(s.episode, { w: w.w, lvl: w.lvl, lvlT: w.lvlT, since: w.since, sinceK: w.sinceK });
}

/** A new lane starts from a copy of the live windows (what scoring it in place did before), with no previous action. */
function copy(w: Windows, t: number): Windows {
  return {
    ...w,
    t,
    prevAction: null,
    outcomes: [...w.outcomes],
    seqLast: w.seqLast && [...w.seqLast],
    mixShort: dict(w.mixShort),
    young: w.young?.map((y) => ({ ...y })),
    held: w.held && { ...w.held },
    w: w.w.map((m) => ({ ...m })),
    lvl: w.lvl && { ...w.lvl },
    since: w.since && { ...w.since },
    sinceK: w.sinceK && { ...w.sinceK },
  };
}

/**
 * Scores a late event in its own lane. Before, it went through the live windows: an agent could
 * interleave back-dated ordinary events with an attack (three per attack event took an error storm
 * from 0.99 to 0.24), diluting every "last N events" statistic at no cost, since a back-dated event
 * is in no live minute's rate. Now late events have windows of their own, kept while they arrive
 * in time order (within the episode window of each other): a back-filled stream is judged as a
 * stream, a back-dated attack is as visible as a live one, and neither touches the live windows.
 * The history (counts, profiles, series, rates) learns from every event as before.
 */
export function inLateLane<R>(s: MonitorState, e: { ts: number; action: string }, windowMs: number, score: () => R): R {
  const ts = e.ts;
  const live = take(s, s.lastTs);
  const lane = s.late && Math.abs(ts - s.late.t) <= windowMs ? s.late : copy(live, ts);
  put(s, lane);
  const r = score();
  // learn() moves the previous action only for events at the agent's latest time; in this lane the event is the latest.
  if (ts >= lane.t) s.prevAction = e.action;
  s.late = take(s, Math.max(lane.t, ts));
  put(s, live);
  return r;
}
