/**
 * Every weight and threshold of the anomaly scorer, in one place. A feature's raw surprise `x` is
 * mapped to a contribution `cap / (1 + exp(-(x - center) / width))`; contributions combine by
 * noisy-OR, so one strong signal or several moderate ones reach high, and the reasons list says
 * which. Tenants may override any of it; these defaults are what bench/anomaly measured.
 */
export interface Curve {
  center: number;
  width: number;
  cap: number;
}

export interface ScoringConfig {
  /** Half-lives (ms) of the decayed counts. */
  halfLife: { behaviour: number; hour: number };
  /**
   * Events before a feature counts fully: confidence = n / (n + warmup). `hour` is no longer used
   * (unusual_hour counts active clock hours, whose smoothing already makes a young profile unsure;
   * its own warm-up is three days of history): still accepted, so stored tenant overrides stay valid.
   */
  warmup: { novelty: number; rate: number; amount: number; outcome: number; hour: number };
  /** An action no declared scope covers. Policy, not statistics: full weight from the first event. */
  outOfScope: number;
  actionNovelty: Curve;
  /** Several novel actions in a short run escalate (tool discovery, probing). */
  noveltyRun: Curve;
  /** x = −ln P(≥ k first-time tools among the hour's n events) / NEW_TOOLS_PER_TASK (2) − ln(N / n), features.noveltyBurst (reported as novelty_run). */
  noveltyBurst: Curve;
  transitionNovelty: Curve;
  /** Several never-seen transitions in a short run (an unusual sequence, not one odd step). */
  sequenceRun: Curve;
  resourceKindNovelty: Curve;
  /** Distinct new resources per minute against the agent's own baseline (exfiltration). */
  resourceFanout: Curve;
  rateBurst: Curve;
  amountSpike: Curve;
  /** -ln(n·p): the amount's exceedance p-value over the agent's own largest values (Pareto tail beyond the largest), times its n values. */
  amountMaxRatio: Curve;
  amountDrift: Curve;
  /** x = family-wise surprisal of an action's share CUSUM against the frozen reference mix (mix-drift.ts); capped below high like amountDrift. */
  mixDrift: Curve;
  errorStorm: Curve;
  unusualHour: Curve;
  latency: Curve;
  behaviourDrift: Curve;
  /** Agent risk decays toward the latest scores with this time constant (ms). */
  riskDecayMs: number;
  /** How much an event of 0.5 or more adds to lingering agent risk (0 = risk is just the max). */
  riskAccumulation: number;
  /** Uses below this decayed count still count as a rare action (its first uses after waking up). */
  rareAction: number;
  /** Multiplier of action novelty for a tool the scopes name explicitly / cover by a wildcard (1 = no prior). */
  scopePrior: { explicit: number; wildcard: number };
  /**
   * Strength of the hour-of-week profile (0 = daily only): each shrinkage level (day type →
   * weekday → hour) gets one observed day of events ÷ weekWeight as its prior (features.weekSlot).
   */
  weekWeight: number;
  /** Hour profiles learn events this long after they happened (a burst at a dead hour does not teach itself). */
  hourLagMs: number;
  /** x = ln((read volume this clock hour + 1) / (98th-percentile active hour + 1)), per unit. */
  volumeHour: Curve;
  /**
   * `halfLifeMs`: how long a window feature's evidence counts as already shown (freshEvidence) and
   * its level at the last episode mark decays (features.sustainedAnomaly). `slack`, `cap` and
   * `curve` belonged to the CUSUM the episode scan replaced (reason `sustained`): still accepted,
   * so stored tenant overrides stay valid, and unused.
   */
  sustained: { slack: number; cap: number; halfLifeMs: number; curve: Curve };
  /**
   * Episode scan (features.sustainedAnomaly): events carrying new medium evidence within the last
   * `windowMs` against the agent's own share of such events (binomial tail, family-wise over its
   * history); `curve` maps -ln(windows · p) like amountMaxRatio.
   */
  episode: { windowMs: number; curve: Curve };
  /** z of the recent step surprise against the agent's own (features.sequenceSurprise). */
  sequenceSurprise: Curve;
  /** Lift (nats) of the step against the last action on the same resource (object-steps.ts): ≈ ln(uses of that context) for a step never taken in it. */
  objectStep: Curve;
  /** x = -ln((N / 8) · P(≥ k never-taken object steps in the last 8 events)), object-steps.objectRun. */
  objectRun: Curve;
  /** x = -ln(n · wakes · P(≥ k of n events)) for a woken rare tool, at the share its woken tools are expected to take (young-tools.ts). */
  youngTool: Curve;
  /** x = -ln(n · wakes · P(≥ k of n objects)) for a woken never-taken object step, at the share its woken steps are expected to take (repeated-steps.ts). */
  repeatedStep: Curve;
  /** Per-feature multipliers of the contribution (absent = 1); tenants tune these. */
  weights: Partial<Record<string, number>>;
  /** Caps that bound memory per agent whatever the event count. */
  caps: {
    actions: number;
    transitions: number;
    resources: number;
    resourceKinds: number;
    amounts: number;
    amountRef: number;
    keys: number;
    objects: number;
    objectSteps: number;
  };
}

const DAY = 86_400_000;

export const DEFAULT_SCORING: ScoringConfig = {
  halfLife: { behaviour: 14 * DAY, hour: 30 * DAY },
  warmup: { novelty: 40, rate: 15, amount: 20, outcome: 30, hour: 150 },
  outOfScope: 0.9,
  actionNovelty: { center: 5.5, width: 0.8, cap: 0.55 },
  noveltyRun: { center: 4, width: 0.8, cap: 0.7 },
  /** Same reading as objectRun and the episode scan: high at about one history in a thousand. */
  noveltyBurst: { center: 5.25, width: 0.7, cap: 0.93 },
  transitionNovelty: { center: 6.5, width: 0.8, cap: 0.6 },
  sequenceRun: { center: 3.5, width: 0.7, cap: 0.8 },
  resourceKindNovelty: { center: 5.5, width: 0.8, cap: 0.45 },
  /** x = ln((new resources this minute + 1) / (98th-percentile minute + 2)). */
  resourceFanout: { center: 0.9, width: 0.25, cap: 0.85 },
  /** x = ln((events in the last 60 s + 1) / (98th-percentile minute + 2)). */
  rateBurst: { center: 0.9, width: 0.22, cap: 0.93 },
  amountSpike: { center: 6, width: 1, cap: 0.9 },
  /** x = -ln(n·p): high (0.85) at x ≈ 6.9, a value the agent's history would produce by chance once in 1,000 histories. */
  amountMaxRatio: { center: 5.25, width: 0.7, cap: 0.93 },
  /** x = family-wise surprisal of the rank CUSUM against the frozen reference (drift.ts); same reading as amountMaxRatio, capped below high: drift alone is a matter for review. */
  amountDrift: { center: 5.25, width: 0.7, cap: 0.85 },
  /**
   * Same reading as amountDrift, capped in the medium band: a share creeping up is also what a
   * legitimately grown workload looks like, so drift of the mix alone is for review (cap 0.85 let
   * any other small reason tip it into high on normal uses of the drifting tool).
   */
  mixDrift: { center: 5.25, width: 0.7, cap: 0.5 },
  /** Binomial tail surprisal (nats) of the failures among the last 20 events. */
  errorStorm: { center: 10, width: 1.4, cap: 0.9 },
  /**
   * x = −ln(7 · the window's share of the agent's active clock hours), lowered by deferred work
   * (features.unusualHour; the session's blocks are reported, not counted).
   * High (0.85) at x ≈ 6.9, the same reading as amountMaxRatio: one history in a thousand; a
   * never-worked hour after ~100 active clock hours is x ≈ 5.3, medium.
   */
  unusualHour: { center: 5.3, width: 0.55, cap: 0.9 },
  latency: { center: 7, width: 1.2, cap: 0.35 },
  behaviourDrift: { center: 0.35, width: 0.05, cap: 0.5 },
  riskDecayMs: 15 * 60_000,
  /**
   * 0.5 (0.3 before 2026-12-05): three separate strong events (0.7 each, per-event evidence)
   * within about 25 s now take the agent to high (0.75 each: within about a minute; riskDecayMs),
   * as they would if they were independent evidence discounted by half; 0.8 auto-revoked a clean
   * agent on world A's holdout (bench/README.md).
   */
  riskAccumulation: 0.5,
  rareAction: 3,
  scopePrior: { explicit: 0.7, wildcard: 0.85 },
  weekWeight: 1,
  hourLagMs: 2 * 3_600_000,
  volumeHour: { center: 1.1, width: 0.25, cap: 0.9 },
  /** slack ln 2: only events scoring above 0.5 add evidence. */
  sustained: { slack: Math.LN2, cap: 6, halfLifeMs: 30 * 60_000, curve: { center: 4, width: 0.7, cap: 0.93 } },
  sequenceSurprise: { center: 4, width: 0.6, cap: 0.8 },
  /** Same curve as transitionNovelty: the same add-½ surprisal, per object instead of per agent. */
  objectStep: { center: 6.5, width: 0.8, cap: 0.6 },
  /** Same reading as amountMaxRatio and the episode scan: high at (windows in the history) · p ≈ 10⁻³. */
  objectRun: { center: 5.25, width: 0.7, cap: 0.93 },
  /** Same reading as amountMaxRatio: high at (windows in the history) · p ≈ 10⁻³. */
  episode: { windowMs: 60 * 60_000, curve: { center: 5.25, width: 0.7, cap: 0.93 } },
  /** Same reading as amountMaxRatio: high at n · wakes · p ≈ 10⁻³. */
  youngTool: { center: 5.25, width: 0.7, cap: 0.93 },
  /** Same reading as youngTool: high at n · wakes · p ≈ 10⁻³. */
  repeatedStep: { center: 5.25, width: 0.7, cap: 0.93 },
  weights: {},
  caps: { actions: 256, transitions: 1024, resources: 2048, resourceKinds: 256, amounts: 128, amountRef: 128, keys: 32, objects: 128, objectSteps: 512 },
};

export function curve(x: number, c: Curve): number {
  if (!Number.isFinite(x)) return x > 0 ? c.cap : 0;
  return c.cap / (1 + Math.exp(-(x - c.center) / c.width));
}
