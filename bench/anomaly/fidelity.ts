import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_SCORING, MAX_EVENT_AGE_MS, type Reason } from "@kakunin/shared";
import { cliArgs } from "../common/args.ts";
import { printComparison } from "./compare.ts";
import { readResponse } from "./edge.ts";
import { scoreAgent } from "./inproc.ts";
import { computeMetrics } from "./metrics.ts";
import { DAY } from "./rhythm.ts";
import type { AgentRun, ScoredEvent } from "./scored.ts";
import { buildSuite, shiftSuite } from "./suite.ts";
import { DEV, HOLDOUT } from "./suites.ts";
import type { SimAgent, Suite } from "./types.ts";
import { buildWorldB, WORLD_B, worldBSpec } from "./world-b/world.ts";
import { buildWorldC, WORLD_C } from "./world-c/world.ts";

/**
 * Fidelity of deployed scoring: replays a world through the running system (origin + edge) the way
 * an outside evaluator does (register, certify, mint a token, post the agent's history in time
 * order) and compares every event's score, band and reasons from the 202 with the in-process
 * scorer (DEFAULT_SCORING, the tenant's configuration with no overrides) on exactly the same events.
 * Also records every status the edge answered and the replay throughput.
 *
 *   node --import tsx anomaly/fidelity.ts --edge http://127.0.0.1:9100 --origin http://127.0.0.1:9101 \
 *     --admin-key KEY --world b [--batch 100] [--concurrency 4] [--single] [--clean 6]
 */
const { values } = parseArgs({
  args: cliArgs(),
  options: {
    edge: { type: "string" },
    origin: { type: "string" },
    "admin-key": { type: "string" },
    world: { type: "string", default: "b" },
    batch: { type: "string", default: "100" },
    concurrency: { type: "string", default: "4" },
    /** One bare event object per request (no `{events: [...]}`). */
    single: { type: "boolean", default: false },
    /** Each batch's events in a random order (the edge scores a batch in time order). */
    shuffle: { type: "boolean", default: false },
    /** Batches of one agent in flight at once (an evaluator's mistake: a later batch can land first). */
    inflight: { type: "string", default: "1" },
    /** Post every batch twice (a client retrying after a lost 202): the second must be all duplicates with the original scores. */
    twice: { type: "boolean", default: false },
    /** Clean agents kept (every attacked agent is kept); `all` keeps every agent. */
    clean: { type: "string", default: "all" },
    /** Only each agent's last N events (a quicker run of a slow posting style, e.g. --single). */
    "last-events": { type: "string" },
    /** Only the first N agents after selection. */
    limit: { type: "string" },
    out: { type: "string" },
  },
});

const edge = values.edge!;
const origin = values.origin!;
const adminKey = values["admin-key"]!;
const BATCH = values.single ? 1 : Number(values.batch);
const statuses = new Map<string, number>();
const note = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);

interface IngestResult {
  event_id: string;
  score: number;
  band: string;
  reasons: Reason[];
  duplicate?: boolean;
}

async function call(method: string, url: string, bearer: string, body?: unknown): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
  // A kept-alive socket the origin closed as it was reused (its keep-alive is 5 s): a GET is sent again.
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((e: unknown) => {
    if (method !== "GET") throw e;
    return fetch(url, { method, headers: { authorization: `Bearer ${bearer}` } });
  });
  return readResponse(res);
}

function field(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const p of path) cur = typeof cur === "object" && cur !== null && p in cur ? (cur as Record<string, unknown>)[p] : undefined;
  return cur;
}

/** Setup calls at the origin; a 408/503 (an origin busy storing the forwarded backlog) is noted and retried. */
async function must(status: number, send: () => ReturnType<typeof call>, what: string): Promise<unknown> {
  let r = await send();
  for (let tries = 0; (r.status === 408 || r.status === 503) && tries < 10; tries++) {
    note(`origin ${what} ${r.status}`);
    await new Promise((res) => setTimeout(res, 2000));
    r = await send();
  }
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

interface Replayed {
  agentId: string;
  token: string;
  byId: Map<string, IngestResult>;
  refused: number;
}

async function replay(suite: string, a: SimAgent): Promise<Replayed> {
  const created = await must(
    201,
    () =>
      call("POST", `${origin}/v1/agents`, adminKey, {
        name: `fid-${a.id}`.slice(0, 64),
        model: { name: "bench-sim", version: suite, hash: `sha256:${"0".repeat(64)}` },
        owner: { name: "Kakunin fidelity bench", email: "bench@example.test" },
        scopes: a.scopes,
      }),
    "POST /v1/agents",
  );
  const agentId = field(created, "data", "id") as string;
  await must(201, () => call("POST", `${origin}/v1/agents/${agentId}/certify`, adminKey), "certify");
  const tok = await must(201, () => call("POST", `${origin}/v1/agents/${agentId}/ingest-tokens`, adminKey, { ttl_seconds: 86_400 }), "ingest token");
  const token = field(tok, "data", "token") as string;
  const byId = new Map<string, IngestResult>();
  let refused = 0;
  const starts = Array.from({ length: Math.ceil(a.events.length / BATCH) }, (_, k) => k * BATCH);
  const send = async (i: number): Promise<void> => {
    const events = a.events.slice(i, i + BATCH).map((le) => le.event);
    if (values.shuffle) events.sort(() => Math.random() - 0.5);
    const body = values.single ? events[0] : { events };
    const post = async () => {
      let r = await call("POST", `${edge}/v1/events`, token, body);
      for (let tries = 0; (r.status === 503 || r.status === 429) && tries < 60; tries++) {
        note(
          `${r.status} ${String(field(r.json, "type") ?? "")
            .split("/")
            .pop()}`,
        );
        const after = Number(r.headers.get("retry-after") ?? "1");
        await new Promise((res) => setTimeout(res, Math.min(after, 5) * 1000));
        r = await call("POST", `${edge}/v1/events`, token, body);
      }
      note(String(r.status));
      return r;
    };
    const r = await post();
    if (r.status !== 202) {
      refused += events.length;
      console.log(`  ${a.id}: ${r.status} at event ${i}: ${r.text.slice(0, 200)}`);
      return;
    }
    const results = (values.single ? [field(r.json, "data", "results", "0")] : field(r.json, "data", "results")) as IngestResult[];
    if (!Array.isArray(results)) throw new Error(`202 without data.results: ${r.text.slice(0, 200)}`);
    results.forEach((x, k) => {
      if (x.event_id !== events[k]!.event_id) note("results out of request order");
      if (x.duplicate) note("duplicate");
      byId.set(x.event_id, x);
    });
    if (values.twice) {
      const again = await post();
      const dup = field(again.json, "data", "results") as IngestResult[] | undefined;
      const same = again.status === 202 && dup?.every((x, k) => x.duplicate === true && x.score === results[k]!.score && x.band === results[k]!.band);
      note(same ? "retry: all duplicates, same scores" : `retry: DIFFERENT (${again.status})`);
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(values.inflight) }, async () => {
      while (next < starts.length) await send(starts[next++]!);
    }),
  );
  return { agentId, token, byId, refused };
}

function pickAgents(s: Suite): SimAgent[] {
  const attacked = s.agents.filter((a) => a.episodes.length > 0);
  const clean = s.agents.filter((a) => a.episodes.length === 0);
  const keep = values.clean === "all" ? clean : clean.slice(0, Number(values.clean));
  const chosen = s.agents.filter((a) => attacked.includes(a) || keep.includes(a));
  return values.limit ? chosen.slice(0, Number(values.limit)) : chosen;
}

function build(): { name: string; end: number; suite: Suite } {
  switch (values.world) {
    case "b":
      return { name: WORLD_B.name, end: WORLD_B.end, suite: buildWorldB(worldBSpec({})) };
    case "c":
      return { name: WORLD_C.name, end: WORLD_C.end, suite: buildWorldC(WORLD_C) };
    case "holdout":
      return { name: HOLDOUT.name, end: HOLDOUT.end, suite: buildSuite(HOLDOUT) };
    case "dev":
      return { name: DEV.name, end: DEV.end, suite: buildSuite(DEV) };
    default:
      throw new Error(`unknown world ${values.world}`);
  }
}

async function main(): Promise<void> {
  const w = build();
  // Whole weeks (hours of the week unchanged), so the last event lies within the past week; events
  // older than the edge's 30-day window at posting time (less a margin for a long replay) are left
  // out of both the replay and the in-process scoring.
  const weeks = Math.floor((Date.now() - 120_000 - w.end) / (7 * DAY));
  const shifted = shiftSuite(w.suite, weeks * 7 * DAY);
  const floor = Date.now() - MAX_EVENT_AGE_MS + 6 * 3_600_000;
  const keep = (evs: SimAgent["events"]) => (values["last-events"] ? evs.slice(-Number(values["last-events"])) : evs);
  const agents = pickAgents(shifted).map((a) => ({ ...a, events: keep(a.events.filter((le) => le.ts >= floor)) }));
  const dropped = pickAgents(shifted).reduce((n, a) => n + a.events.filter((le) => le.ts < floor).length, 0);
  const total = agents.reduce((n, a) => n + a.events.length, 0);
  console.log(
    `${w.name}: ${agents.length} agents (${agents.filter((a) => a.episodes.length).length} attacked), ${total} events; ${dropped} older than the window left out; batch ${values.single ? "1 (bare event)" : BATCH}, concurrency ${values.concurrency}`,
  );

  const inproc = agents.map((a) =>
    scoreAgent(
      a.events.map((le) => le.event),
      a.scopes,
      "kakunin",
      DEFAULT_SCORING,
    ),
  );
  const t0 = performance.now();
  const replayed = new Array<Replayed>(agents.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(values.concurrency) }, async () => {
      while (next < agents.length) {
        const i = next++;
        replayed[i] = await replay(w.name, agents[i]!);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `replayed ${total} events in ${secs.toFixed(1)} s = ${(total / secs).toFixed(0)} events/s; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );

  let mismatch = 0;
  let bandMismatch = 0;
  let reasonMismatch = 0;
  let missing = 0;
  const examples: string[] = [];
  const edgeRuns: AgentRun[] = [];
  const inRuns: AgentRun[] = [];
  const inRiskRuns: AgentRun[] = [];
  agents.forEach((a, i) => {
    const ip = inproc[i]!;
    const rp = replayed[i]!;
    const scored: (ScoredEvent | undefined)[] = [];
    a.events.forEach((le, j) => {
      const x = rp.byId.get(le.event.event_id);
      if (!x) {
        missing++;
        scored.push(undefined);
        return;
      }
      scored.push({ le, score: x.score, reasons: x.reasons });
      const same = x.score === ip.score[j];
      const sameReasons = JSON.stringify(x.reasons) === JSON.stringify(ip.reasons[j]);
      if (!same) mismatch++;
      if (!same && x.score >= 0.85 !== ip.score[j]! >= 0.85) bandMismatch++;
      if (!sameReasons) reasonMismatch++;
      if ((!same || !sameReasons) && examples.length < 15) {
        examples.push(
          `${a.id} #${j} ${le.event.timestamp} ${le.event.action}: edge ${x.score} ${x.reasons.map((r) => r.feature).join(",")} | in-process ${ip.score[j]} ${ip.reasons[j]!.map((r) => r.feature).join(",")}`,
        );
      }
    });
    edgeRuns.push({ agent: a, scored });
    inRuns.push({ agent: a, scored: a.events.map((le, j) => ({ le, score: ip.score[j]!, reasons: ip.reasons[j]! })) });
    inRiskRuns.push({
      agent: a,
      scored: a.events.map((le, j) => ({
        le,
        score: ip.score[j]!,
        reasons: ip.reasons[j]!,
        risk: ip.risk[j]!,
        riskReasons: ip.riskReasons[j]!,
        becameHigh: ip.becameHigh[j]!,
      })),
    });
  });
  console.log(
    `event for event: ${total - missing} compared, ${mismatch} scores differ (${bandMismatch} across the high line), ${reasonMismatch} reason lists differ, ${missing} not scored`,
  );
  for (const e of examples) console.log(`  ${e}`);
  printComparison(w.name, "event scores only (no risk): edge 202 vs in-process, same events", [
    { label: "in-process", m: computeMetrics(inRuns) },
    { label: "edge", m: computeMetrics(edgeRuns) },
  ]);
  printComparison(w.name, "the bench's in-process headline (event scores and the agent's risk) vs what the 202s show", [
    { label: "in-process+risk", m: computeMetrics(inRiskRuns) },
    { label: "edge", m: computeMetrics(edgeRuns) },
  ]);
  // What the system did with the alerts (auto_revoke off: each one joins the agent's review, and is
  // a risk.high webhook): per agent, the alerts the origin counted vs the events that took the
  // in-process risk into high. Forwarding is asynchronous: read until the count stops moving.
  const inAlerts = agents.map((_, i) => inproc[i]!.becameHigh.filter(Boolean).length);
  let sysAlerts: number[] = [];
  for (let stable = 0, last = -1, tries = 0; stable < 3 && tries < 60; tries++) {
    const r = await call("GET", `${origin}/v1/reviews?limit=200`, adminKey);
    const by = new Map(((field(r.json, "data") as { agent_id: string; alerts: number }[] | undefined) ?? []).map((x) => [x.agent_id, x.alerts]));
    sysAlerts = replayed.map((rp) => by.get(rp.agentId) ?? 0);
    const sum = sysAlerts.reduce((a, b) => a + b, 0);
    stable = sum === last ? stable + 1 : 0;
    last = sum;
    if (stable < 3) await new Promise((res) => setTimeout(res, 3000));
  }
  const disagree = agents.flatMap((a, i) => (inAlerts[i] !== sysAlerts[i] ? [`${a.id} ${inAlerts[i]}/${sysAlerts[i]}`] : []));
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  console.log(
    `alerts (risk became high): in-process ${sum(inAlerts)} on ${inAlerts.filter(Boolean).length} agents; system ${sum(sysAlerts)} on ${sysAlerts.filter(Boolean).length} agents; agents that differ (in-process/system): ${disagree.length} ${disagree.slice(0, 12).join(", ")}`,
  );
  if (values.out)
    writeFileSync(
      values.out,
      JSON.stringify(
        {
          world: w.name,
          total,
          secs,
          statuses: Object.fromEntries(statuses),
          mismatch,
          bandMismatch,
          reasonMismatch,
          missing,
          examples,
          inAlerts,
          sysAlerts,
          disagree,
        },
        null,
        1,
      ),
    );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
