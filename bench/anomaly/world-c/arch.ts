import type { EventType } from "../types.ts";
import { HOUR, MIN, localClock, type Ev, type Profile } from "./model.ts";
import type { Rand } from "./random.ts";

/** What the attacks need to know about an archetype besides its rhythm and its tasks. */
export interface Arch {
  name: string;
  scopes: string[];
  /** Declared in scope, never used in normal work (dormant_tool). */
  unused: { action: string; type: EventType }[];
  /** Present at ~1 % of normal work (drift_mix grows it). */
  rare: { action: string; type: EventType };
  /** Not covered by `scopes` (checked when the world is built). */
  outOfScope: string[];
  /** In scope, never used by any agent of the archetype (tool_discovery). */
  discover: string[];
  /** Optional tools an agent draws its working set from (besides the core steps). */
  optional: string[];
  optionalCount: [number, number];
  /** The tool adopted by a new_tool surprise, the step a new_step surprise adds, the replaced tool. */
  adopt: string;
  newStep: { action: string; type: EventType };
  replace: { from: string; to: string };
  /** The money action (amount families); absent: the archetype moves no money. */
  amountAction?: string;
  /** The most frequent action (retry storms). */
  hot: { action: string; type: EventType };
  /** The read whose volume exfiltration inflates, its volume attribute and normal median. */
  read: { action: string; type: EventType; key: "records" | "bytes"; base: number; prefix: string };
  /** Actions ordinary enough to appear in an error storm. */
  common: string[];
  regions: { region: string; tz: number; currency: string }[];
  /** Intensity of task starts at a local hour and weekday (0 = never works then). */
  weight(hour: number, dow: number): number;
  /** Per-agent draws specific to the archetype (rate, pool, amounts). */
  draw(r: Rand, p: Profile): void;
  task(r: Rand, p: Profile, t: number): Ev[];
  /** Work that is not a Poisson task start: AML's nightly batch, devops incidents. */
  daily?(r: Rand, p: Profile, localMidnightUtc: number): Ev[];
  /** A task with its steps in an order the template never produces (impossible_sequence). */
  badOrder?(r: Rand, p: Profile, t: number): { variant: string; evs: Ev[] };
  monthEnd?: boolean;
}

export const weekday = (dow: number): boolean => dow >= 1 && dow <= 5;

/** Moves `t` forward to the next local hour the archetype works at weight ≥ 0.5 (later PO steps wait for office hours). */
export function snap(a: Arch, p: Profile, t: number, r: Rand): number {
  for (let i = 0; i < 24 * 14; i++) {
    const c = localClock(p, t);
    if (a.weight(c.hour, c.dow) >= 0.5) return t;
    t = (Math.floor(t / HOUR) + 1) * HOUR + r.uniform(0, 40) * MIN;
  }
  return t;
}
