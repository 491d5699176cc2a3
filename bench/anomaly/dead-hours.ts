import { parseArgs } from "node:util";
import { scoreAgents } from "./inproc.ts";
import { buildSuite } from "./suite.ts";
import { DEV, HOLDOUT } from "./suites.ts";
import { buildWorldB, WORLD_B } from "./world-b/world.ts";
import { buildWorldC, WORLD_C } from "./world-c/world.ts";
import { fittedConfig } from "./fitted.ts";
import type { AgentRun } from "./scored.ts";

// Diagnostic (not part of the benchmark; bench/README.md, twenty-fourth stop): how long agents stay
// at an hour they have never worked, clean and under attack. A "dead-hour run" is a run of events
// whose `unusual_hour` reason reads the 3-hour window as never worked ("in 0.0 of its … active clock
// hours") and not as deferred work, split where 30 minutes pass without one. A clean run is one
// outside every episode and the hour after it. Usage: `--world b|c|dev|holdout[,…]`.

/** A run longer than this is listed (with its benign label), and so is a shorter one this strong. */
const LIST_MIN = 40;
const LIST_STRONG = 0.5;
const GAP_MS = 30 * 60_000;

interface DeadRun {
  agent: string;
  start: number;
  minutes: number;
  clockHours: number;
  events: number;
  /** The strongest `unusual_hour` contribution in the run. */
  max: number;
  /** The attack it belongs to ("" = clean), and the benign surprises it overlaps. */
  attack: string;
  benign: string[];
}

const NEVER_WORKED = / in 0\.0 of its /;

function deadRuns(r: AgentRun): DeadRun[] {
  const out: DeadRun[] = [];
  let cur: DeadRun | undefined;
  let last = -Infinity;
  let hours = new Set<number>();
  const close = () => {
    if (cur) out.push({ ...cur, minutes: (last - cur.start) / 60_000, clockHours: hours.size });
    cur = undefined;
    hours = new Set();
  };
  for (const s of r.scored) {
    if (!s) continue;
    const u = s.reasons.find((x) => x.feature === "unusual_hour");
    const dead = u !== undefined && NEVER_WORKED.test(u.detail) && !u.detail.includes("deferred");
    if (cur && s.le.ts - last > GAP_MS) close();
    if (!dead) continue;
    cur ??= { agent: r.agent.id, start: s.le.ts, minutes: 0, clockHours: 0, events: 0, max: 0, attack: "", benign: [] };
    last = s.le.ts;
    cur.events++;
    cur.max = Math.max(cur.max, u.contribution);
    hours.add(Math.floor(s.le.ts / 3_600_000));
    const ep = s.le.episode ?? r.agent.episodes.find((e) => s.le.ts >= e.start && s.le.ts <= e.end + 3_600_000);
    if (ep && (cur.attack === "" || ep.attack === "odd_hours")) cur.attack = ep.attack;
    if (s.le.benign && !cur.benign.includes(s.le.benign)) cur.benign.push(s.le.benign);
  }
  close();
  return out;
}

const line = (d: DeadRun) =>
  `${d.agent.padEnd(26)} ${new Date(d.start).toISOString().slice(0, 16)} ${d.minutes.toFixed(0).padStart(3)} min, ${d.clockHours} clock h, ${String(d.events).padStart(3)} events, unusual_hour ≤ ${d.max.toFixed(2)}${d.benign.length ? `, benign ${d.benign.join(" ")}` : ""}`;

const { values } = parseArgs({ options: { world: { type: "string", default: "b,c,dev,holdout" }, workers: { type: "string", default: "2" } } });
for (const w of values.world!.split(",")) {
  const suite = w === "b" ? buildWorldB(WORLD_B) : w === "c" ? buildWorldC(WORLD_C) : buildSuite(w === "dev" ? DEV : HOLDOUT);
  // As the cross-generator report reads each world: with the configuration fitted on the other one.
  const { runs } = await scoreAgents(suite.agents, Number(values.workers), "kakunin", fittedConfig(w === "b" || w === "c" ? "a" : "b"));
  const all = runs.flatMap(deadRuns);
  const clean = all.filter((d) => d.attack === "");
  const count = (f: (d: DeadRun) => boolean) => clean.filter(f).length;
  console.log(
    `world ${w}: ${clean.length} clean dead-hour runs; ≥ 20 min ${count((d) => d.minutes >= 20)}, ≥ 40 min ${count((d) => d.minutes >= 40)}, ≥ 60 min ${count((d) => d.minutes >= 60)}; over ≥ 2 clock hours ${count((d) => d.clockHours >= 2)}; unusual_hour ≥ ${LIST_STRONG} ${count((d) => d.max >= LIST_STRONG)}`,
  );
  for (const d of clean) if (d.minutes >= LIST_MIN || (d.max >= LIST_STRONG && d.minutes >= 20)) console.log(`  clean  ${line(d)}`);
  for (const d of all) if (d.attack === "odd_hours") console.log(`  attack ${line(d)}`);
}
