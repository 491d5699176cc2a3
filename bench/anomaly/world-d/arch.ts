import type { SimEvent } from "../sim-event.ts";
import type { Drawn, Profile, Shared } from "./model.ts";
import type { Rand } from "./random.ts";

/** One archetype: how its agents are drawn and what attacks need to know about its work. */
export interface Arch {
  name: string;
  draw(r: Rand, id: string, end: number, shared: Shared): Drawn;
  /** One ordinary task starting at `t` (odd hours, error storms). */
  task(r: Rand, p: Profile, t: number): SimEvent[];
  /** A task whose steps come in an order the template never produces; absent: no multi-step template. */
  badSequence?(r: Rand, p: Profile, t: number): { evs: SimEvent[]; variant: string };
  /** The read that carries volume (exfiltration). */
  read: string;
  /** The action whose amounts attacks spike or drift; absent: no amounts. */
  money?: string;
}

/** Attribute keys that carry read volume in world D (each archetype keeps its own spelling). */
export const VOLUME_ATTRS = ["records", "rows_returned", "rowsReturned", "bytes_scanned"] as const;
