import type { EpisodeMark } from "./features.ts";
import type { MonitorState } from "./state.ts";
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
 * previous action, the object-step flags of the last 8 events, the young-tool watches (counted in
 * events), the evidence already shown in the current episode and the episode scan's one-hour
 * window. `t`: the newest event time in this lane. (The action mixes, short and long, do not learn
 * late events at all: learn.ts.)
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
    young: w.young?.map((y) => ({ ...y })),
    held: w.held && { ...w.held },
    w: w.w.map((m) => ({ ...m })),
    lvl: w.lvl && { ...w.lvl },
    since: w.since && { ...w.since },
    sinceK: w.sinceK && { ...w.sinceK },
  };
}

/** Late lanes kept at once: back-filled streams at different times, and an attack among them. */
export const LATE_LANES = 4;

/** What a lane holds against the agent: failures among its last outcomes and marks in its episode window. */
function evidence(w: Windows): number {
  let n = 0;
  for (const o of w.outcomes) n += o;
  for (const m of w.w) if (m.f) n++;
  return n;
}

/**
 * Scores a late event in a lane of its own. Before, it went through the live windows: an agent
 * could interleave back-dated ordinary events with an attack (three per attack event took an error
 * storm from 0.99 to 0.24), diluting every "last N events" statistic at no cost, since a back-dated
 * event is in no live minute's rate. Now late events have windows of their own: a lane takes the
 * late events that are in time order for it (a back-filled stream is judged as a stream, a
 * back-dated attack as a live one would be), up to LATE_LANES lanes at different times.
 * A late event near none opens a lane from a copy of the live windows, in place of the one holding
 * the least evidence (the least recently used among equals): far-off fillers alternated with a
 * back-dated attack open and close lanes of their own and cannot reset the attack's. The history
 * (counts, profiles, series, rates) learns from every event as before.
 */
export function inLateLane<R>(s: MonitorState, e: { ts: number; action: string }, windowMs: number, score: () => R): R {
  const ts = e.ts;
  const live = take(s, s.lastTs);
  const lanes = (s.late ??= []);
  // A lane takes an event in its own time order, as the live windows do: up to LATE_MS behind its
  // latest event and up to the episode window ahead of it. Fillers stamped a little before a
  // back-dated attack are late for its lane too, and go to another.
  const fits = (w: Windows) => ts >= w.t - LATE_MS && ts - w.t <= windowMs;
  let at = -1;
  for (let i = 0; i < lanes.length; i++) {
    if (fits(lanes[i]!) && (at < 0 || Math.abs(ts - lanes[i]!.t) < Math.abs(ts - lanes[at]!.t))) at = i;
  }
  if (at < 0) {
    if (lanes.length >= LATE_LANES) {
      // Lanes are kept in order of use, least recent first: the first with the least evidence goes.
      let out = 0;
      for (let i = 1; i < lanes.length; i++) if (evidence(lanes[i]!) < evidence(lanes[out]!)) out = i;
      lanes.splice(out, 1);
    }
    lanes.push(copy(live, ts));
    at = lanes.length - 1;
  }
  const lane = lanes.splice(at, 1)[0]!;
  put(s, lane);
  const r = score();
  // learn() moves the previous action only for events at the agent's latest time; in this lane the event is the latest.
  if (ts >= lane.t) s.prevAction = e.action;
  lanes.push(take(s, Math.max(lane.t, ts)));
  put(s, live);
  return r;
}
