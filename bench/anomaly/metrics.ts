import { BAND_HIGH, BAND_MEDIUM, type Reason } from "@kakunin/shared";
import type { AgentRun, ScoredEvent } from "./scored.ts";
import { AucAgainst, mean, median, tally } from "./stats.ts";
import { ATTACK_TYPES, BENIGN_TYPES, DRIFT_TYPES, type AttackType, type BenignType, type Episode, type SimAgent } from "./types.ts";

export interface EpisodeResult {
  episode: Episode;
  events: number;
  maxScore: number;
  /** Strongest event of the episode (for miss listings). */
  best?: ScoredEvent;
  /** 1-based index of the first high event within the episode, and seconds from its start. */
  detectEvents?: number;
  detectSeconds?: number;
  /** Seconds from episode start until the agent's risk crossed into high (in-process only). */
  riskSeconds?: number;
  /** Risk was already high when the episode began (an earlier alarm had not decayed yet). */
  riskAlreadyHigh?: boolean;
  /** Edge mode: none of its events were scored (the agent had been revoked before). */
  unscored?: boolean;
}

export interface TypeResult {
  type: AttackType;
  events: number;
  auc: number;
  episodes: EpisodeResult[];
  lowest: ScoredEvent[];
}

export interface Revocation {
  agent: SimAgent;
  ts?: number;
  risk?: number;
  reasons: Reason[];
}

export interface Metrics {
  normals: number;
  anomalies: number;
  /** Normal events inside an episode's window (+10 min): excluded from FPR and AUC. */
  during: { n: number; high: number };
  unscored: number;
  /** Non-drift anomalies vs all normal events (the headline number), and with drift included. */
  auc: number;
  /** Mean of the per-type AUCs (non-drift): every attack type weighs the same, however many events it has. */
  aucMacro: number;
  aucWithDrift: number;
  aucDrift: number;
  types: TypeResult[];
  fprHigh: number;
  mediumShare: number;
  benign: { type: BenignType; n: number; high: number; medium: number }[];
  /** Clean agents whose risk reached high (in-process) or whose certificate ended revoked (edge). */
  revokedClean: Revocation[];
  /** Agents with episodes that went high before their first episode began. */
  revokedEarly: Revocation[];
  topNormal: ScoredEvent[];
  fpReasons: [string, number][];
  mediumReasons: [string, number][];
  missReasons: [string, number][];
  lowReasons: [string, number][];
  riskKnown: boolean;
}

/** Normal events this close after a (non-drift) episode are "during" it. */
export const OVERLAP_MS = 10 * 60_000;

const top = (s: ScoredEvent) => s.reasons[0]?.feature ?? "(no reason)";

export function computeMetrics(runs: AgentRun[]): Metrics {
  const normal: ScoredEvent[] = [];
  const anomalous: ScoredEvent[] = [];
  const during: ScoredEvent[] = [];
  let unscored = 0;
  for (const r of runs) {
    // Normal work interleaved with a short attack shares its minutes (a burst inflates the rate of
    // everything in it): that is collateral, not a false alarm on a healthy agent, so it is set aside.
    const windows = r.agent.episodes.filter((e) => !DRIFT_TYPES.has(e.attack)).map((e) => [e.start, e.end + OVERLAP_MS] as const);
    for (const s of r.scored) {
      if (!s) unscored++;
      else if (s.le.episode) anomalous.push(s);
      else if (windows.some(([a, b]) => s.le.ts >= a && s.le.ts <= b)) during.push(s);
      else normal.push(s);
    }
  }
  const against = new AucAgainst(normal.map((s) => s.score));
  const nonDrift = anomalous.filter((s) => !DRIFT_TYPES.has(s.le.episode!.attack));
  const riskKnown = runs.some((r) => r.scored.some((s) => s?.risk !== undefined));

  const types: TypeResult[] = ATTACK_TYPES.map((type) => {
    const evs = anomalous.filter((s) => s.le.episode!.attack === type);
    const episodes = runs.flatMap((r) => r.agent.episodes.filter((e) => e.attack === type).map((e) => episodeResult(r, e)));
    return { type, events: evs.length, auc: against.auc(evs.map((s) => s.score)), episodes, lowest: [...evs].sort((a, b) => a.score - b.score).slice(0, 10) };
  });

  const revokedClean: Revocation[] = [];
  const revokedEarly: Revocation[] = [];
  for (const r of runs) {
    const firstEp = Math.min(...r.agent.episodes.map((e) => e.start));
    if (riskKnown) {
      const hit = r.scored.find((s) => s !== undefined && (s.risk ?? 0) >= BAND_HIGH);
      if (hit && r.agent.episodes.length === 0) revokedClean.push({ agent: r.agent, ts: hit.le.ts, risk: hit.risk, reasons: hit.riskReasons ?? [] });
      if (hit && r.agent.episodes.length > 0 && hit.le.ts < firstEp) revokedEarly.push({ agent: r.agent, ts: hit.le.ts, risk: hit.risk, reasons: hit.riskReasons ?? [] });
    } else if (r.certStatus === "revoked") {
      // Without per-event risk, the highest event before the edge started refusing is the best
      // available explanation; the refusal time bounds when the revocation happened.
      const until = r.refusedAt ?? Infinity;
      const hit = r.scored.filter((s): s is ScoredEvent => s !== undefined && s.le.ts < until).reduce<ScoredEvent | undefined>((b, s) => (!b || s.score > b.score ? s : b), undefined);
      const rev = { agent: r.agent, ts: r.refusedAt ?? hit?.le.ts, reasons: hit?.reasons ?? [] };
      if (r.agent.episodes.length === 0) revokedClean.push(rev);
      else if (r.refusedAt !== undefined && r.refusedAt < firstEp) revokedEarly.push(rev);
    }
  }

  const fps = normal.filter((s) => s.score >= BAND_HIGH);
  const mediums = normal.filter((s) => s.score >= BAND_MEDIUM && s.score < BAND_HIGH);
  const missed = types.filter((t) => !DRIFT_TYPES.has(t.type)).flatMap((t) => t.episodes.filter((e) => e.detectEvents === undefined && !e.unscored));
  return {
    normals: normal.length, anomalies: anomalous.length, unscored,
    during: { n: during.length, high: during.filter((s) => s.score >= BAND_HIGH).length },
    auc: against.auc(nonDrift.map((s) => s.score)),
    aucMacro: mean(types.filter((t) => !DRIFT_TYPES.has(t.type) && t.events > 0).map((t) => t.auc)),
    aucWithDrift: against.auc(anomalous.map((s) => s.score)),
    aucDrift: against.auc(anomalous.filter((s) => DRIFT_TYPES.has(s.le.episode!.attack)).map((s) => s.score)),
    types,
    fprHigh: fps.length / Math.max(1, normal.length),
    mediumShare: mediums.length / Math.max(1, normal.length),
    benign: BENIGN_TYPES.map((type) => {
      const b = normal.filter((s) => s.le.benign === type);
      return { type, n: b.length, high: b.filter((s) => s.score >= BAND_HIGH).length, medium: b.filter((s) => s.score >= BAND_MEDIUM && s.score < BAND_HIGH).length };
    }),
    revokedClean, revokedEarly,
    topNormal: [...normal].sort((a, b) => b.score - a.score).slice(0, 10),
    fpReasons: tally(fps.map(top)),
    mediumReasons: tally(mediums.map(top)),
    missReasons: tally(missed.map((e) => (e.best ? `${e.episode.attack}: ${top(e.best)}` : `${e.episode.attack}: (unscored)`))),
    lowReasons: tally(nonDrift.filter((s) => s.score < BAND_MEDIUM).map(top)),
    riskKnown,
  };
}

function episodeResult(r: AgentRun, ep: Episode): EpisodeResult {
  const evs = r.scored.filter((s): s is ScoredEvent => s !== undefined && s.le.episode?.id === ep.id);
  const res: EpisodeResult = { episode: ep, events: evs.length, maxScore: 0 };
  for (const [i, s] of evs.entries()) {
    if (s.score > res.maxScore) {
      res.maxScore = s.score;
      res.best = s;
    }
    if (res.detectEvents === undefined && s.score >= BAND_HIGH) {
      res.detectEvents = i + 1;
      res.detectSeconds = (s.le.ts - ep.start) / 1000;
    }
  }
  // Risk is the agent's, so any of its events counts, up to an hour after the episode ended; only
  // a crossing into high counts (risk left high by an earlier false alarm detects nothing).
  const inWindow = r.scored.filter((s): s is ScoredEvent => s !== undefined && s.le.ts >= ep.start && s.le.ts <= ep.end + 3_600_000);
  const crossing = inWindow.find((s) => s.becameHigh);
  if (crossing) res.riskSeconds = (crossing.le.ts - ep.start) / 1000;
  else if ((inWindow[0]?.risk ?? 0) >= BAND_HIGH) res.riskAlreadyHigh = true;
  // Edge mode: the edge starting to refuse events (revoked certificate) is the risk signal, to batch precision.
  if (r.refusedAt !== undefined && r.refusedAt >= ep.start && r.refusedAt <= ep.end + 3_600_000) res.riskSeconds = (r.refusedAt - ep.start) / 1000;
  if (evs.length === 0) res.unscored = true;
  return res;
}

export function detectionSummary(all: EpisodeResult[]): { n: number; unscored: number; detected: number; riskDetected: number; riskAlready: number; medEvents: number; medSeconds: number; medRiskSeconds: number } {
  const eps = all.filter((e) => !e.unscored);
  const det = eps.filter((e) => e.detectEvents !== undefined);
  const risk = eps.filter((e) => e.riskSeconds !== undefined);
  return {
    n: eps.length, unscored: all.length - eps.length, detected: det.length, riskDetected: risk.length, riskAlready: eps.filter((e) => e.riskAlreadyHigh).length,
    medEvents: median(det.map((e) => e.detectEvents!)), medSeconds: median(det.map((e) => e.detectSeconds!)),
    medRiskSeconds: median(risk.map((e) => e.riskSeconds!)),
  };
}
