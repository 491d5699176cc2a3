import { eventSchema } from "@kakunin/shared";
import { matchesScope } from "./model.ts";
import { ARCHETYPES } from "./archetypes.ts";
import { buildWorldC, WORLD_C } from "./world.ts";

/**
 * Sanity check of world C without any scorer: sizes, episodes per family, benign windows, schema
 * and scope violations, time order. `node --import tsx anomaly/world-c/check.ts` from bench/.
 */
const t0 = performance.now();
const suite = buildWorldC(WORLD_C);
const ms = performance.now() - t0;
let events = 0;
let bad = 0;
let unordered = 0;
let oosNormal = 0;
const fam = new Map<string, { n: number; events: number; variants: string[] }>();
const benign = new Map<string, { windows: number; events: number }>();
const ids = new Set<string>();
for (const a of suite.agents) {
  events += a.events.length;
  for (let i = 0; i < a.events.length; i++) {
    const le = a.events[i]!;
    if (!eventSchema.safeParse(le.event).success || ids.has(le.event.event_id)) bad++;
    ids.add(le.event.event_id);
    if (i > 0 && le.ts < a.events[i - 1]!.ts) unordered++;
    if (!le.episode && !matchesScope(a.scopes, le.event.action)) oosNormal++;
    if (le.benign) {
      const b = benign.get(le.benign) ?? { windows: 0, events: 0 };
      b.events++;
      benign.set(le.benign, b);
    }
  }
  for (const w of a.benign) {
    const b = benign.get(w.type) ?? { windows: 0, events: 0 };
    b.windows++;
    benign.set(w.type, b);
  }
  for (const e of a.episodes) {
    const f = fam.get(e.attack) ?? { n: 0, events: 0, variants: [] };
    f.n++;
    f.events += a.events.filter((le) => le.episode === e).length;
    f.variants.push(`${a.kind}: ${e.variant}`);
    fam.set(e.attack, f);
  }
}
for (const arch of ARCHETYPES) {
  for (const x of arch.outOfScope) if (matchesScope(arch.scopes, x)) console.log(`SCOPE BUG ${arch.name}: ${x} is in scope`);
  for (const x of [...arch.discover, ...arch.unused.map((u) => u.action), arch.rare.action, arch.newStep.action, arch.replace.to])
    if (!matchesScope(arch.scopes, x)) console.log(`SCOPE BUG ${arch.name}: ${x} not in scope`);
}
console.log(
  `${suite.agents.length} agents, ${events} events, generated in ${(ms / 1000).toFixed(1)} s; schema/dup violations ${bad}, out-of-order ${unordered}, normal events out of scope ${oosNormal}`,
);
console.log(`anomalous agents ${suite.agents.filter((a) => a.episodes.length > 0).length}`);
for (const a of suite.agents) console.log(`  ${a.id.padEnd(28)} ${String(a.events.length).padStart(6)} ev  ${a.episodes.map((e) => e.attack).join(", ")}`);
for (const [k, f] of fam) console.log(`${k.padEnd(20)} ${f.n} episodes, ${f.events} events; ${f.variants.join(" | ")}`);
for (const [k, b] of benign) console.log(`benign ${k.padEnd(16)} ${b.windows} windows, ${b.events} events`);
