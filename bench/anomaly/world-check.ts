import { createHash } from "node:crypto";
import { eventSchema } from "@kakunin/shared";
import type { Suite } from "./types.ts";

/**
 * Sanity check of a blind world without any scorer (worlds D and E: `anomaly/world-d/check.ts`):
 * determinism (two builds, one hash), schema, unique ids, time order, scopes, sizes per family and
 * benign type.
 */
const inScope = (scopes: readonly string[], action: string): boolean =>
  scopes.some((s) => s === "*" || s === action || (s.endsWith(".*") && action.startsWith(s.slice(0, -1))));

const hash = (s: Suite): string => {
  const h = createHash("sha256");
  for (const a of s.agents) {
    h.update(`${a.id}|${a.profile}|${JSON.stringify(a.episodes)}|${JSON.stringify(a.benign)}\n`);
    for (const le of a.events) h.update(`${JSON.stringify(le.event)}|${le.episode?.id ?? ""}|${le.benign ?? ""}\n`);
  }
  return h.digest("hex");
};

export function checkWorld(build: () => Suite): void {
  const t0 = performance.now();
  const suite = build();
  const ms = performance.now() - t0;
  const again = hash(build());
  const first = hash(suite);
  let events = 0;
  let bad = 0;
  let unordered = 0;
  let oosNormal = 0;
  const problems: string[] = [];
  const fam = new Map<string, { n: number; events: number; variants: string[] }>();
  const benign = new Map<string, { windows: number; events: number }>();
  const ids = new Set<string>();
  for (const a of suite.agents) {
    events += a.events.length;
    for (let i = 0; i < a.events.length; i++) {
      const le = a.events[i]!;
      const ok = eventSchema.safeParse(le.event);
      if (!ok.success || ids.has(le.event.event_id)) {
        bad++;
        if (problems.length < 5) problems.push(`${le.event.event_id}: ${ok.success ? "duplicate id" : ok.error.message}`);
      }
      ids.add(le.event.event_id);
      if (i > 0 && le.ts < a.events[i - 1]!.ts) unordered++;
      if (!le.episode && !inScope(a.scopes, le.event.action)) {
        oosNormal++;
        if (problems.length < 10) problems.push(`${a.id}: normal ${le.event.action} out of scope`);
      }
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
  console.log(
    `${suite.agents.length} agents, ${events} events, generated in ${(ms / 1000).toFixed(1)} s; schema/dup violations ${bad}, out-of-order ${unordered}, normal events out of scope ${oosNormal}`,
  );
  console.log(`deterministic: ${first === again ? "yes" : "NO"} (sha256 ${first.slice(0, 16)}…)`);
  for (const p of problems) console.log(`  PROBLEM ${p}`);
  console.log(`anomalous agents ${suite.agents.filter((a) => a.episodes.length > 0).length}`);
  for (const a of suite.agents)
    console.log(`  ${a.id.padEnd(24)} ${String(a.events.length).padStart(6)} ev  ${a.profile} | ${a.episodes.map((e) => e.attack).join(", ")}`);
  for (const [k, f] of [...fam].sort()) console.log(`${k.padEnd(20)} ${f.n} episodes, ${f.events} events; ${f.variants.join(" | ")}`);
  for (const [k, b] of [...benign].sort()) console.log(`benign ${k.padEnd(16)} ${b.windows} windows, ${b.events} events`);
  if (bad || unordered || oosNormal || first !== again) process.exitCode = 1;
}
