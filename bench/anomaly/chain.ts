import type { Rng } from "../common/rng.ts";

/**
 * First-order Markov chain over action names. Agents follow workflows (quote → place → status),
 * so the next action depends on the last; `END` closes a session.
 */
export const END = "$end";

export interface Chain {
  start: Record<string, number>;
  next: Record<string, Record<string, number>>;
}

export function walk(chain: Chain, rng: Rng, maxLen: number): string[] {
  const out: string[] = [];
  let a = rng.weighted(chain.start);
  while (a !== END && out.length < maxLen) {
    out.push(a);
    const w = chain.next[a];
    if (!w) break;
    a = rng.weighted(w);
  }
  return out;
}

export function actionsOf(chain: Chain): string[] {
  const s = new Set<string>(Object.keys(chain.start));
  for (const [a, w] of Object.entries(chain.next)) {
    s.add(a);
    for (const b of Object.keys(w)) s.add(b);
  }
  s.delete(END);
  return [...s].sort();
}

/** Ordered pairs (a → b, a ≠ b) the chain can never produce: material for impossible sequences. */
export function zeroTransitions(chain: Chain): [string, string][] {
  const acts = actionsOf(chain);
  const out: [string, string][] = [];
  for (const a of acts) {
    for (const b of acts) {
      if (a !== b && !((chain.next[a]?.[b] ?? 0) > 0)) out.push([a, b]);
    }
  }
  return out;
}

/**
 * Adopt a new tool (a benign change): it becomes a successor of one existing action with a modest
 * share, and continues to wherever that action went. Mutates `chain` in place.
 */
export function adoptInChain(chain: Chain, tool: string, rng: Rng): void {
  if (chain.next[tool]) return;
  const acts = actionsOf(chain);
  const host = rng.pick(acts);
  const w = chain.next[host] ?? {};
  const total = Object.values(w).reduce((s, x) => s + x, 0) || 1;
  chain.next[tool] = { ...w };
  w[tool] = total * rng.uniform(0.1, 0.3);
  chain.next[host] = w;
}
