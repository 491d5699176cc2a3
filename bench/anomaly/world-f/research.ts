import type { SimEvent } from "../sim-event.ts";
import type { BenignType } from "../types.ts";
import { DAY, type Drawn, type Gen, hourly, local, MIN, type Params, SEC, Seq, windowsOf, type Zone, ZONES } from "./model.ts";
import type { Rng } from "./random.ts";

/** Research summariser: an LLM agent fetching documents and publishing summaries; adopts sources. */
const SETUPS: Zone[] = [ZONES.newYork!, ZONES.london!, ZONES.tokyo!, ZONES.kathmandu!, ZONES.sydney!];
const SOURCES = [
  "reuters.com",
  "ft.com",
  "sec.gov/edgar",
  "bloomberg.com",
  "wsj.com",
  "nikkei.com",
  "economist.com",
  "imf.org",
  "bis.org",
  "ecb.europa.eu",
  "federalreserve.gov",
  "arxiv.org",
  "ssrn.com",
  "moodys.com",
  "spglobal.com",
  "fitchratings.com",
  "oecd.org",
  "worldbank.org",
  "boj.or.jp",
  "rba.gov.au",
  "nrb.org.np",
  "bankofengland.co.uk",
  "asx.com.au",
  "jpx.co.jp",
  "lseg.com",
  "cnbc.com",
  "marketwatch.com",
  "seekingalpha.com",
  "statista.com",
  "eurostat.ec.europa.eu",
];
const CURVE24 = [0.25, 0.2, 0.2, 0.2, 0.25, 0.35, 0.55, 0.8, 1, 1, 1, 0.95, 0.8, 0.95, 1, 1, 0.95, 0.85, 0.7, 0.55, 0.45, 0.4, 0.35, 0.3];

export interface ResearchShared {
  earnings: number;
  quiet: number;
}

export function researchShared(r: Rng, end: number): ResearchShared {
  return { earnings: end - r.int(9, 18) * DAY, quiet: r.int(0, 4) };
}

export function drawResearch(r: Rng, id: string, i: number, start: number, end: number, sh: ResearchShared): Drawn {
  const zone = SETUPS[i % SETUPS.length]!;
  const quiet = i === sh.quiet;
  const office = i % 5 >= 2;
  const rate = quiet ? r.between(0.12, 0.18) : r.between(1.5, 4.5);
  const bytesMedian = r.between(40_000, 200_000);
  const errRate = r.between(0.005, 0.03);
  const models = r.shuffle(["model:claude-haiku", "model:claude-sonnet", "model:gpt-4o-mini", "model:llama-70b"]).slice(0, r.int(1, 2));
  const channels = Array.from({ length: r.int(2, 5) }, (_, k) => `channel:${["macro", "equities", "credit", "fx", "rates"][k]}`);
  const order = r.shuffle(SOURCES);
  const initial = r.int(6, 12);
  const sources = order.slice(0, initial);
  const weights = sources.map(() => r.between(0.3, 2));
  const adopted = new Map<string, number>();
  const earningsEnd = sh.earnings + 7 * DAY;
  const normal: Gen[] = [];
  const doc = (rr: Rng, scale = 1) => {
    const bytes = Math.round(rr.lognormal(bytesMedian * scale, 0.8));
    return { bytes, pages: Math.max(1, Math.round(bytes / rr.between(2500, 4000))) };
  };

  const job = (t: number, benign?: BenignType, pool = sources.length): Gen[] => {
    const s = new Seq(r, t, errRate, benign);
    let read = 0;
    const n = r.int(1, 5);
    for (let k = 0; k < n; k++) {
      const src = sources[r.weighted(weights.slice(0, pool))]!;
      const a = doc(r);
      read += a.bytes;
      const g = s.gap(3 * SEC, 1.3, 5 * MIN).step("data_access", "doc.fetch", { resource: `src:${src}`, attributes: { ...a, doc: r.token(8) } }, 700);
      const at = adopted.get(src);
      if (at !== undefined && g.ts < at + 2 * DAY && !benign) s.out.at(-1)!.benign = "new_resource";
    }
    const c = r.int(1, 3);
    for (let k = 0; k < c; k++)
      s.gap(2 * SEC, 1.4, 2 * MIN).step(
        "api_request",
        "llm.complete",
        { resource: r.pick(models), attributes: { tokensIn: Math.min(150_000, Math.round(read / 4 / c)), tokensOut: r.int(200, 1500) } },
        6000,
      );
    if (r.chance(0.02)) s.gap(MIN, 1.4).step("tool_call", "summary.revise", { resource: r.pick(channels) }, 300);
    if (r.chance(0.75)) s.gap(20 * SEC, 1.4).step("message", "summary.publish", { resource: r.pick(channels) }, 250);
    return s.out;
  };

  // A new source every 4–9 days.
  const adoptions: number[] = [];
  for (let t = start + r.between(3, 8) * DAY; t < end; t += r.between(4, 9) * DAY) adoptions.push(t);
  let next = 0;
  hourly(
    r,
    start,
    end,
    (l, ts) => {
      const base = office ? (l.weekend || l.hour < 7 || l.hour >= 20 ? 0 : 1) : CURVE24[Math.floor(l.hour)]! * (l.weekend ? 0.35 : 1);
      return rate * base * (l.holiday ? 0.3 : 1) * (ts >= sh.earnings && ts < earningsEnd ? 5 : 1);
    },
    (t) => {
      while (next < adoptions.length && adoptions[next]! <= t && initial + next < order.length) {
        const src = order[initial + next]!;
        sources.push(src);
        weights.push(r.between(1, 3));
        adopted.set(src, adoptions[next]!);
        next++;
      }
      const l = local(zone, t);
      const label: BenignType | undefined = t >= sh.earnings && t < earningsEnd ? "busy_day" : l.holiday ? "holiday_lull" : undefined;
      normal.push(...job(t, label));
    },
    zone,
  );
  const kept = normal.filter((g) => g.ev.ts >= start && g.ev.ts < end).sort((a, b) => a.ev.ts - b.ev.ts);
  const benign = [
    ...windowsOf(kept, "busy_day", "earnings-season week 5×"),
    ...windowsOf(kept, "new_resource", "a newly adopted source (2 days)"),
    ...windowsOf(kept, "holiday_lull", "public holiday 0.3×"),
  ];
  const p: Params = {
    id,
    arch: "research-summariser",
    zone,
    start,
    end,
    scopes: [
      "doc.fetch",
      "llm.complete",
      "summary.publish",
      "summary.revise",
      "summary.retract",
      "doc.bulk_export",
      "web.search",
      "pdf.ocr",
      "translate.run",
      "chart.render",
      "llm.embed",
      "vector.upsert",
    ],
    top: { action: "doc.fetch", type: "data_access", resources: sources.map((s) => `src:${s}`) },
    volume: { action: "doc.fetch", type: "data_access", resourcePrefix: "src:", make: (rr, scale) => doc(rr, scale) },
    rare: {
      action: "summary.revise",
      make: (rr, t) => ({
        ts: Math.round(t),
        type: "tool_call",
        action: "summary.revise",
        resource: rr.pick(channels),
        outcome: "success",
        latencyMs: Math.round(rr.lognormal(300, 0.4)),
      }),
    },
    dormant: ["summary.retract", "doc.bulk_export"],
    discover: ["web.search", "pdf.ocr", "translate.run", "chart.render", "llm.embed", "vector.upsert"],
    foreign: ["email.send", "payment.schedule", "db.query", "iam.key_create"],
    common: [
      { action: "doc.fetch", type: "data_access" },
      { action: "llm.complete", type: "api_request" },
      { action: "summary.publish", type: "message" },
    ],
    task: (_rr, t) => job(t, undefined, initial).map((g) => ({ ...g.ev })),
    impossible: (rr, t) => {
      const n = rr.int(1, 3);
      const events: SimEvent[] = Array.from({ length: n }, (_, k) => ({
        ts: Math.round(t + k * rr.between(MIN, 20 * MIN)),
        type: "message" as const,
        action: "summary.publish",
        resource: rr.pick(channels),
        outcome: "success" as const,
        latencyMs: 250,
        attributes: { doc: `x${rr.token(7)}` },
      }));
      return { events, variant: `${n}× summary.publish of a never-fetched document, no llm.complete before it` };
    },
  };
  return {
    p,
    normal: kept,
    benign,
    profile: `${zone.name}, ${office ? "office hours" : "around the clock"}, ${rate.toFixed(1)} jobs/h, bytes ~${Math.round(bytesMedian / 1000)} KB, ${initial}+${next} sources${quiet ? ", quiet" : ""}`,
  };
}
