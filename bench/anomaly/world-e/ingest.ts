import type { BenignWindow } from "../types.ts";
import {
  type Arch,
  DAY,
  type Drawn,
  finish,
  type Gen,
  historyStart,
  isWeekend,
  label,
  local,
  localDates,
  atLocal,
  MIN,
  type Profile,
  session,
  ZONES,
} from "./model.ts";
import type { Rng } from "./random.ts";

/**
 * market-data-ingest: a machine-like pipeline polling a vendor feed around the clock on weekdays
 * (local market calendar), normalising and writing batches of `records`; weekends only a heartbeat
 * poll every 30 min. A vendor switch (archetype-wide day) renames every `feed.*` to `feed2.*`.
 */
export const INGEST: Arch = {
  name: "market-data-ingest",
  draw(r, id, end, sh): Drawn {
    const zone = r.pick([ZONES.newYork, ZONES.london, ZONES.tokyo, ZONES.mumbai]);
    const start = historyStart(r, end);
    // Scaled down from the brief's 5 s so the bench stays runnable: one poll every 1.5–5 min.
    const period = r.between(90, 300) * 1000;
    const recMedian = r.between(150, 600);
    const venue = r.pick(["xnys", "xlon", "xtks", "xnse", "bats"]);
    const fail = r.between(0.002, 0.01);
    const at = (action: string, t: number) => (t >= sh.switchAt ? action.replace(/^feed\./, "feed2.") : action);
    const benign: BenignWindow[] = [];
    const holiday = zone.holiday;
    const poll = (t: number, writes: number, b?: Gen["benign"]): Gen[] => {
      const steps = [{ action: at("feed.poll", t), type: "api_request" as const, resource: `vendor:${venue}` }];
      const more = r.chance(writes)
        ? [
            { action: at("feed.normalize", t), type: "tool_call" as const, resource: `vendor:${venue}` },
            {
              action: "store.write",
              type: "data_access" as const,
              resource: `table:ticks_${venue}`,
              attributes: { records: Math.round(r.logn(recMedian, 0.5)) },
            },
          ]
        : [];
      const extra = r.chance(0.004) ? [{ action: at("feed.backfill", t), type: "api_request" as const, resource: `vendor:${venue}` }] : [];
      const read = r.chance(0.01)
        ? [
            {
              action: "store.read",
              type: "data_access" as const,
              resource: `table:ticks_${venue}`,
              attributes: { records: Math.round(r.logn(recMedian * 2, 0.6)) },
            },
          ]
        : [];
      return session(r, t, [...steps, ...more, ...extra, ...read], 0.4, fail, b);
    };
    const gens: Gen[] = [];
    for (const date of localDates(zone, start, end)) {
      const d0 = atLocal(zone, date, 0);
      const l = local(zone, d0 + 12 * 3_600_000);
      const hol = date === holiday;
      if (isWeekend(l)) {
        for (let t = d0 + r.between(0, 30) * MIN; t < d0 + DAY; t += 30 * MIN + r.between(-60, 60) * 1000) gens.push(...poll(t, 0.02));
        continue;
      }
      for (let t = d0 + r.between(0, period); t < d0 + DAY; t += period * r.between(0.85, 1.15)) {
        const h = local(zone, t).h;
        const market = h >= 8 && h < 17;
        gens.push(...poll(t, hol ? 0.1 : market ? 0.95 : 0.35, hol ? "holiday_lull" : undefined));
      }
      if (hol) benign.push({ type: "holiday_lull", start: d0, end: d0 + DAY, detail: `${date} holiday: feed mostly idle` });
    }
    if (sh.switchAt > start && sh.switchAt < end) {
      const w = { type: "new_tool" as const, start: sh.switchAt, end: sh.switchAt + 3 * DAY, detail: "vendor switch: feed.* → feed2.*" };
      benign.push(w);
      label(gens, w);
    }
    const p: Profile = {
      id,
      zone,
      start,
      end,
      scopes: ["feed.*", "feed2.*", "store.*"],
      dormant: ["store.truncate", "feed2.credentials_rotate"],
      foreign: ["wire.send", "iam.role_grant", "storage.make_public"],
      unused: ["store.export", "store.snapshot", "feed2.subscribe_all", "store.schema_alter", "feed2.entitlements", "store.vacuum", "feed2.mirror"],
      top: [
        { action: "feed2.poll", type: "api_request", resource: () => `vendor:${venue}` },
        { action: "store.write", type: "data_access", resource: () => `table:ticks_${venue}` },
        { action: "feed2.normalize", type: "tool_call", resource: () => `vendor:${venue}` },
      ],
      volume: { action: "store.read", type: "data_access", key: "records", median: recMedian * 2 },
      rare: { action: "feed2.backfill", type: "api_request" },
      task: (rr, t) => poll(t, 1),
      impossible: (rr: Rng, t: number) => ({
        gens: session(
          rr,
          t,
          [
            { action: "store.write", type: "data_access", resource: `table:ticks_${venue}`, attributes: { records: Math.round(rr.logn(recMedian, 0.5)) } },
            { action: "store.write", type: "data_access", resource: `table:ticks_${venue}`, attributes: { records: Math.round(rr.logn(recMedian, 0.5)) } },
          ],
          1,
          0,
        ),
        what: "store.write twice with no poll or normalize",
      }),
      fail,
    };
    // Attacks after the switch use the feed2 names; before, the old ones.
    const fixTop = (t: number) => (t >= sh.switchAt ? p.top : p.top.map((x) => ({ ...x, action: x.action.replace(/^feed2\./, "feed.") })));
    p.topAt = fixTop;
    p.rareAt = (t) => ({ ...p.rare, action: t >= sh.switchAt ? "feed2.backfill" : "feed.backfill" });
    return {
      p,
      normal: finish(r, p, gens, benign),
      benign,
      profile: `${zone.name}, poll every ${(period / 1000).toFixed(0)} s, ${venue}, records ~${recMedian.toFixed(0)}`,
    };
  },
};
