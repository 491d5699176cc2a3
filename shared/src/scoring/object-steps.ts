import type { ScoredInput } from "../events.ts";
import { cutCodePoints } from "../unicode.ts";
import { curve, type ScoringConfig } from "./config.ts";
import { binomialTailSurprisalLog, OBJECT_RUN_EVENTS, surprisal, type Reason } from "./features.ts";
import { bumpStep, decayedAt, forgetLeastRecent, popcount, type MonitorState } from "./state.ts";

/**
 * Object-level sequence model (`object_step`): what was last done to THIS resource before this
 * action. An agent that works many tasks at once interleaves their steps, so the order of its
 * actions says little (every step follows every other somewhere), but each object it touches —
 * a payment, a case, a claim, a ledger batch — goes through its own life cycle: created before it
 * is approved, approved before it is executed, opened before it is decided. A task done backwards
 * or a step skipped shows up as a step this agent has never taken on an object in that state,
 * however busy it is.
 *
 * The context of an event is the last action on its resource among the agent's recently touched
 * objects, or — for an object it has not touched recently — the resource's collection (a first
 * touch of a `cases/…` object is normally the step that opens it). Counts are decayed like the other
 * behaviour counts and learned after scoring; the evidence is the step's add-½ surprisal in its
 * context (as for transition_novelty: about ln(2 × uses of the context) for a step never taken
 * in it), for steps taken fewer than `rareAction` times there. Memory: at most `caps.objects`
 * recent objects (resource → last action) and `caps.objectSteps` context steps and contexts.
 */

/** The context key of a first touch: no action name can start with U+0001. */
const FIRST = "\u0001";

/**
 * The collection a resource belongs to and its depth (`claims/x-7f/evidence/3` → `claims/4`):
 * coarser than resourceKind on purpose, since object ids are not always recognisable as ids
 * (`claims/x-taifxl` is its own resource kind), and a first touch is judged per collection.
 */
function collectionOf(resource: string): string {
  const parts = resource
    .toLowerCase()
    .split(/[?#]/, 1)[0]!
    .split(/[/:@=]+/);
  // By code point, as resource kinds are: a cut emoji would leave a lone surrogate in the reasons.
  return `${cutCodePoints(parts[0]!, 64)}/${Math.min(parts.length, 12)}`;
}

/** A first touch's context (the resource's collection): the object's earlier steps, if any, are not in memory. */
export function isFirstTouch(ctx: string): boolean {
  return ctx.startsWith(FIRST);
}

/** The event's object context, read once per event before it is learned (objectStep, learnObjectStep and repeated_step take it). */
export function contextOf(s: MonitorState, resource: string): string {
  const last = s.objects?.[resource];
  return last ? last[0] : FIRST + collectionOf(resource);
}

/**
 * `ctx`: contextOf the event's resource (undefined: the event has none).
 * `implied`: nats already explained by the action's own rarity (features.actionNovelty's `x`).
 * `p`, for a never-taken step (`novel`): its add-½ share of the objects that reached the state.
 */
export function objectStep(
  s: MonitorState,
  e: ScoredInput,
  ctx: string | undefined,
  cfg: ScoringConfig,
  implied = 0,
): { r?: Reason; novel: boolean; p?: number } {
  if (ctx === undefined || !s.objSteps || !s.objOut) return { novel: false };
  const hl = cfg.halfLife.behaviour;
  const cb = decayedAt(s.actions[e.action], e.ts, hl);
  // A never-seen action is judged by action_novelty (a never-seen collection has no context yet).
  if (cb < 0.5) return { novel: false };
  const out = decayedAt(s.objOut[ctx], e.ts, hl);
  // An object's state is established by how many objects reached it (the uses of its last
  // action), not by how many left it: nothing normally follows an executed payment or a decided
  // case, and a step on one after that (a task done backwards: decided, then opened) is the point.
  // The step's probability is judged against every object that reached the state, including those
  // the agent never touched again (a terminal state's steps are as rare as `reached` makes them).
  const reached = isFirstTouch(ctx) ? out : Math.max(out, decayedAt(s.actions[ctx], e.ts, hl));
  if (reached < 1) return { novel: false };
  const c = decayedAt(s.objSteps[`${ctx}\u0000${e.action}`], e.ts, hl);
  // A step taken a few times in this context is still rare (an attacker replaying the same
  // impossible step is not normal after its first use): judged by surprisal like a never-seen one.
  if (c >= cfg.rareAction) return { novel: false };
  const rarity = surprisal(c, reached, s.objSucc?.[ctx] ?? 0);
  const x = rarity - implied;
  // Confidence in the context's own history: a handful of uses of it is not yet a life cycle.
  const contribution = curve(x, cfg.objectStep) * (reached / (reached + cfg.warmup.novelty / 2));
  // object_run counts a never-taken step only between an established state and an established
  // action: a context with a life cycle to break, and an action the agent has used as often. A
  // first touch in a collection the agent has only just met (a resource family it is adopting) is
  // a first step by chance, and several at once are the adoption, not tasks done backwards; so are
  // the steps of a tool it has used a handful of times (a workflow taking in its first pull
  // requests breaks every deploy's life cycle at every step), which action_novelty and young_tool
  // judge as the tool's.
  const novel = c < 0.5 && reached >= cfg.warmup.novelty / 2 && cb >= cfg.warmup.novelty / 2;
  const p = novel ? Math.exp(-rarity) : undefined;
  if (contribution < 0.01) return { novel, p };
  const where = isFirstTouch(ctx) ? `as the first step on a '${ctx.slice(1)}'` : `after '${ctx}' on the same resource`;
  const seen = c < 0.5 ? "never" : `${Math.round(c)} times`;
  const among = isFirstTouch(ctx) ? `${Math.round(reached)} such steps` : `${Math.round(reached)} objects that reached '${ctx}'`;
  return { r: { feature: "object_step", contribution, detail: `'${e.action}' ${where}: ${seen} in ${among}` }, novel, p };
}

/** Events the run looks back over (the last few steps of a task or two). */
const RUN_EVENTS = OBJECT_RUN_EVENTS;

/**
 * Several never-taken object steps among the last RUN_EVENTS events (a task done backwards breaks
 * its object's life cycle at nearly every step) against the agent's own share of such steps: the
 * binomial tail of k in RUN_EVENTS at that share, judged family-wise over the agent's history
 * like amount_over_max and the episode scan, x = -ln((N / RUN_EVENTS) · P). One never-taken step
 * is nothing here (object_step judges it); 4 in 8 from an agent whose life cycles never break is
 * one history in many thousands.
 */
export function objectRun(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  const hl = cfg.halfLife.behaviour;
  const flags = (((s.objFlags ?? 0) << 1) | 1) & ((1 << RUN_EVENTS) - 1);
  const k = popcount(flags);
  if (k < 2) return undefined;
  const total = decayedAt(s.actionTotal, e.ts, hl);
  const q = Math.min(0.5, (decayedAt(s.objNovel, e.ts, hl) + 1) / (total + 2));
  const x = binomialTailSurprisalLog(k, RUN_EVENTS, q) - Math.log(Math.max(1, total / RUN_EVENTS));
  const contribution = curve(x, cfg.objectRun) * (s.n / (s.n + cfg.warmup.novelty));
  if (contribution < 0.01) return undefined;
  return {
    feature: "object_run",
    contribution,
    detail: `${k} of the last ${RUN_EVENTS} events took a step never taken on such an object (usual share ${(q * 100).toFixed(2)}%)`,
  };
}

/** Learns the event's step on its resource (`ctx`: its contextOf, as scored), after scoring. Late events do not rewrite an object's last action. */
export function learnObjectStep(s: MonitorState, e: ScoredInput, ctx: string | undefined, cfg: ScoringConfig, novel: boolean): void {
  s.objFlags = (((s.objFlags ?? 0) << 1) | (novel ? 1 : 0)) & ((1 << RUN_EVENTS) - 1);
  if (novel) s.objNovel = { c: decayedAt(s.objNovel, e.ts, cfg.halfLife.behaviour) + 1, t: Math.max(s.objNovel?.t ?? 0, e.ts) };
  if (!e.resource || ctx === undefined) return;
  const hl = cfg.halfLife.behaviour;
  const objects = (s.objects ??= Object.create(null) as Record<string, [string, number]>);
  const steps = (s.objSteps ??= Object.create(null) as Record<string, { c: number; t: number }>);
  const outs = (s.objOut ??= Object.create(null) as Record<string, { c: number; t: number }>);
  const prev = objects[e.resource];
  if (prev && e.ts < prev[1]) return;
  const succ = (s.objSucc ??= Object.create(null) as Record<string, number>);
  bumpStep({ steps, outgoing: outs, successors: succ }, ctx, e.action, e.ts, hl, { steps: cfg.caps.objectSteps, outgoing: cfg.caps.objectSteps });
  if (!prev) s.objectCount = (s.objectCount ?? 0) + 1;
  objects[e.resource] = [e.action, e.ts];
  s.objectCount = forgetLeastRecent(objects, s.objectCount ?? 0, cfg.caps.objects, (o) => o[1]);
}
