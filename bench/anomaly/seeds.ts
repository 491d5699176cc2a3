import { parseArgs } from "node:util";
import { cliArgs } from "../common/args.ts";
import { reachedHigh } from "./compare.ts";
import { fittedConfig } from "./fitted.ts";
import { scoreAgents } from "./inproc.ts";
import { computeMetrics } from "./metrics.ts";
import { DRIFT_TYPES, type AttackType } from "./types.ts";
import { buildWorldB, worldBSpec } from "./world-b/world.ts";

/**
 * Other draws of world B, scored with the configuration fitted on world A (the shipped
 * DEFAULT_SCORING): one line per seed (AUC, episodes high, FPR(high), the clean agents
 * auto-revoked and their top reasons), then each family summed over the draws with the mean and
 * minimum of its per-seed AUC. The shipped world B is one seed; a defect that only one draw shows
 * is still a defect, and this is how the "other draws" figures in bench/README.md are produced.
 *
 *   pnpm --filter @kakunin/bench anomaly:seeds -- --seeds 1-6 [--b-days 10-14 [--b-warm 5]] [--workers 2]
 */
const { values } = parseArgs({
  args: cliArgs(),
  options: {
    seeds: { type: "string", default: "1-6" },
    "b-days": { type: "string" },
    "b-warm": { type: "string" },
    workers: { type: "string", default: "2" },
  },
});

function seedList(spec: string): number[] {
  return spec.split(",").flatMap((part) => {
    const [lo, hi] = part.split("-").map(Number);
    if (!Number.isInteger(lo) || (hi !== undefined && !Number.isInteger(hi))) throw new Error(`--seeds: '${part}' is not N or N-M`);
    return hi === undefined ? [lo!] : Array.from({ length: hi - lo! + 1 }, (_, i) => lo! + i);
  });
}

const cfg = fittedConfig("a");
const families = new Map<AttackType, { n: number; high: number; auc: number[] }>();
let episodes = 0;
let high = 0;
let clean = 0;
for (const seed of seedList(values.seeds!)) {
  const spec = worldBSpec({ seed, days: values["b-days"], warm: values["b-warm"] });
  const { runs } = await scoreAgents(buildWorldB(spec).agents, Number(values.workers), "kakunin", cfg);
  const m = computeMetrics(runs);
  let seedHigh = 0;
  let seedEpisodes = 0;
  for (const t of m.types) {
    const f = families.get(t.type) ?? { n: 0, high: 0, auc: [] };
    const k = t.episodes.filter(reachedHigh).length;
    f.n += t.episodes.length;
    f.high += k;
    if (t.episodes.length > 0 && Number.isFinite(t.auc)) f.auc.push(t.auc);
    families.set(t.type, f);
    if (DRIFT_TYPES.has(t.type)) continue;
    seedHigh += k;
    seedEpisodes += t.episodes.length;
  }
  episodes += seedEpisodes;
  high += seedHigh;
  clean += m.revokedClean.length;
  const who = m.revokedClean
    .map(
      (r) =>
        `${r.agent.id} [${r.reasons
          .slice(0, 2)
          .map((x) => x.feature)
          .join(", ")}]`,
    )
    .join("; ");
  console.log(
    `seed ${seed}: AUC ${m.auc.toFixed(3)}, episodes high ${seedHigh}/${seedEpisodes}, FPR(high) ${(m.fprHigh * 100).toFixed(3)} %, clean auto-revoked ${m.revokedClean.length}${who ? `: ${who}` : ""}`,
  );
}
console.log(`all draws: episodes high (non-drift) ${high}/${episodes}, clean agents auto-revoked ${clean}`);
for (const [type, f] of families) {
  if (f.n === 0) continue;
  const mean = f.auc.reduce((a, b) => a + b, 0) / f.auc.length;
  console.log(
    `  ${type.padEnd(20)} ${`${f.high}/${f.n}`.padStart(7)} high   AUC mean ${mean.toFixed(3)}, min ${Math.min(...f.auc).toFixed(3)}${DRIFT_TYPES.has(type) ? "   (drift)" : ""}`,
  );
}
