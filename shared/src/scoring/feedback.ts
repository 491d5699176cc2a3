import { decayedAt, type MonitorState } from "./state.ts";
import type { ScoringConfig } from "./config.ts";
import { DEFAULT_SCORING } from "./config.ts";
import { rebaseDrift } from "./drift.ts";
import { MEDIUM_EVIDENCE } from "./features.ts";
import { foldHours } from "./learn.ts";
import { acceptMix } from "./mix-drift.ts";

/**
 * What a review was shown, when the edge knows it. A clear accepts that and nothing else: a
 * reviewer who cleared an alert about unusual hours has not looked at the agent's amounts, and
 * one who cleared an alert at 10:00 has not seen what the agent did at 10:05.
 */
export interface ReviewedScope {
  /** Reason features of the alerts the review closed (absent: an origin that did not say; all of them). */
  features?: readonly string[];
  /** Each numeric series' count (`seen`) at the newest alert the review closed (absent: every value was reviewed). */
  seenAt?: Readonly<Record<string, number>>;
}

/**
 * A human reviewed the events that raised this agent's risk and cleared them: they are normal for
 * this agent. Every scored event was already learned into the baseline when it was scored, so what
 * remains is to stop them counting against the agent: the lingering risk, the escalation runs and
 * the episode scan's window marks they built up are cleared, and the agent's own exploration rate absorbs the novelty. The one hook
 * the review queue needs from the scorer (AgentMonitor.acceptAsNormal calls it).
 */
export function acceptAsNormal(s: MonitorState, t: number, cfg: ScoringConfig = DEFAULT_SCORING, scope: ReviewedScope = {}): void {
  const shown = (feature: string) => scope.features === undefined || scope.features.includes(feature);
  s.risk = { score: 0, t: Math.max(s.risk.t, t), reasons: [] };
  s.noveltyRun = 0;
  s.seqRun = 0;
  s.objFlags = 0;
  // The tools it woke are accepted as its own (a review is the adoption): no longer watched. Only
  // if the review was shown them: a tool woken beside an alert about something else stays watched.
  if (shown("young_tool")) s.young = undefined;
  // So are the object steps it woke, if the review was shown them (the life cycle's new path).
  if (shown("repeated_step")) s.stepWatch = undefined;
  // The late lane's windows hold the reviewed events' runs as the live ones do: they start again from the cleared live windows.
  s.late = undefined;
  // The episode accumulator too: sustained evidence from the cleared events must not escalate the
  // next one. What each window feature already showed stays held (the session that was cleared is
  // not new evidence when it goes on), and the cleared run joins the agent's history of benign
  // medium runs of that feature, so a repeat of it is worth less (features.freshEvidence).
  const runs = { ...(s.cusum.runs ?? {}) };
  for (const [f, ev] of Object.entries(s.cusum.held ?? {})) {
    if (ev >= MEDIUM_EVIDENCE) runs[f] = { c: decayedAt(runs[f], t, cfg.halfLife.behaviour) + 1, t: Math.max(runs[f]?.t ?? 0, t) };
  }
  s.cusum = { s: 0, t: Math.max(s.cusum.t, t), held: { ...(s.cusum.held ?? {}) }, runs };
  // The episode scan: the cleared events' marks leave the window (they stay in the agent's share of
  // marked events, which is what a reviewed-normal history should teach), and each window feature's
  // level is what it already showed, so the cleared session going on is not marked again.
  if (s.episode) {
    s.episode.w = s.episode.w.map((m) => ({ t: m.t, f: "" }));
    s.episode.lvl = { ...(s.cusum.held ?? {}) };
    s.episode.lvlT = Math.max(s.episode.lvlT ?? 0, s.cusum.t);
  }
  // Values the reviewer accepted are the agent's new normal: a drift the review was shown has its
  // reference frozen again from the values up to the reviewed alert (learn.ts freezes it once full
  // and never moves it on its own). Values after the alert are not the reviewer's: they are judged
  // against the new reference, as if they arrived after it.
  for (const [key, series] of Object.entries(s.amounts)) {
    if (!shown(key.includes("|#") ? "volume_drift" : "amount_drift")) continue;
    const at = scope.seenAt === undefined ? series.seen : scope.seenAt[key];
    // A series the snapshot does not know, or one evicted and begun again since, is all unreviewed.
    const after = at === undefined || at > series.seen ? series.recent.length : Math.min(series.seen - at, series.recent.length);
    rebaseDrift(series, after, cfg.caps.amountRef);
  }
  // The action mix the reviewer was shown is the agent's new normal (mix-drift.ts).
  if (shown("mix_drift")) acceptMix(s);
  // And the short run of step surprise (sequence_surprise): back to the agent's long-run mean.
  s.seq = { ...s.seq, short: s.seq.mean, last: [] };
  // The hour profiles learn the reviewed activity now instead of after their lag (its clock hours
  // become hours the agent works), and unusual_hour no longer counts the cleared 10-minute blocks
  // as the length of a session at this hour: the session going on is judged from the review on.
  foldHours(s, Math.floor(t / 3_600_000) + 1, cfg);
  if (s.active) s.active.cleared = Math.max(s.active.cleared ?? 0, t);
}
