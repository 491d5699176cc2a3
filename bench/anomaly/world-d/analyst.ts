import type { BenignWindow } from "../types.ts";
import { baseProfile, busyDays, dayWindow, finish } from "./agent.ts";
import type { Arch } from "./arch.ts";
import { atLocal, clock, DAY, days, gap, holiday, hourly, monthStarts, Out, type Profile, weekend, ZONES } from "./model.ts";
import type { Rand } from "./random.ts";

const SCHEMAS = ["sales", "finance", "marketing", "ops", "risk", "hr", "product", "support"];
const NOUNS = [
  "orders",
  "invoices",
  "gl_entries",
  "sessions",
  "campaigns",
  "tickets",
  "churn",
  "headcount",
  "events",
  "refunds",
  "accounts",
  "usage",
  "leads",
  "claims",
  "fx_rates",
  "inventory",
];

interface Table {
  name: string;
  rows: number;
  rowBytes: number;
  since: number;
}
interface Lake {
  tables: Table[];
  dashboards: { name: string; tables: Table[] }[];
  minute: number;
  hour: number;
}
const lakes = new Map<string, Lake>();

function newTable(r: Rand, since: number, taken: Set<string>): Table {
  let name = "";
  do name = `${r.pick(SCHEMAS)}.${r.pick(NOUNS)}${r.chance(0.3) ? `_${r.pick(["daily", "v2", "agg", "raw"])}` : ""}`;
  while (taken.has(name));
  taken.add(name);
  return { name, rows: Math.round(r.lognormal(2000, 1.5)), rowBytes: r.int(100, 2000), since };
}

function query(r: Rand, p: Profile, o: Out, t: number, tb: Table, k: number, rolled: boolean): number {
  if (rolled && r.chance(0.3)) t = o.step({ ts: t, type: "tool_call", action: "warehouse.explain", resource: tb.name }) + gap(r, 1, 1.5, 60);
  const rows = Math.max(0, Math.round(r.lognormal(tb.rows * k, 1)));
  const scanned = Math.round(Math.max(rows, tb.rows * r.uniform(1, 40)) * tb.rowBytes * k);
  return o.step({ ts: t, type: "data_access", action: "warehouse.query", resource: tb.name, attributes: { rowsReturned: rows, bytes_scanned: scanned } });
}

/** An ad-hoc session: describe, query, export, with heavy-tailed think time. */
function session(r: Rand, p: Profile, o: Out, t: number, k: number, rolled: boolean): void {
  const lake = lakes.get(p.id)!;
  const live = lake.tables.filter((x) => x.since <= t);
  for (let s = r.int(3, 30); s > 0; s--) {
    const tb = live[r.zipf(live.length)]!;
    const x = r.next();
    if (x < 0.01) t = o.step({ ts: t, type: "tool_call", action: p.rare, resource: tb.name, attributes: { rowsReturned: Math.round(tb.rows * k) } });
    else if (x < 0.15) t = o.step({ ts: t, type: "tool_call", action: "warehouse.describe", resource: tb.name });
    else if (x < 0.2) t = o.step({ ts: t, type: "tool_call", action: "sheets.export", resource: `sheet:${tb.name}` });
    else t = query(r, p, o, t, tb, k, rolled);
    t += gap(r, 8, 1.2, 1800);
  }
}

export const ANALYST: Arch = {
  name: "data-analyst",
  read: "warehouse.query",
  draw(r, id, end, shared) {
    const p = baseProfile(r, id, this.name, end, [ZONES.london, ZONES.berlin, ZONES.newyork, ZONES.chicago, ZONES.singapore, ZONES.tokyo], shared, {
      scopes: ["warehouse.*", "dashboard.refresh", "sheets.export"],
      dormant: ["warehouse.unload", "warehouse.grant"],
      rare: "warehouse.export_csv",
      outOfScope: ["storage.make_public", "iam.create_key", "crm.export_contacts", "mail.send_external", "warehouse_admin.drop"],
      discover: [
        "warehouse.list_schemas",
        "warehouse.copy_into",
        "warehouse.show_grants",
        "warehouse.clone",
        "warehouse.sample",
        "warehouse.history",
        "warehouse.stage_list",
        "warehouse.share",
      ],
    });
    const taken = new Set<string>();
    const tables = Array.from({ length: r.int(8, 25) }, () => newTable(r, 0, taken));
    const windows: BenignWindow[] = [];
    // A new table adopted every week.
    for (let t = p.start + r.uniform(2, 7) * DAY; t < p.end; t += r.uniform(6, 8) * DAY) {
      tables.push(newTable(r, t, taken));
      windows.push({ type: "new_resource", start: t, end: t + 2 * DAY, detail: `new table ${tables[tables.length - 1]!.name}` });
    }
    const dashboards = Array.from({ length: r.int(1, 4) }, (_, i) => ({
      name: `dashboard:${id}-${i}`,
      tables: r.shuffle(tables.slice(0, 8)).slice(0, r.int(2, 6)),
    }));
    const lake: Lake = { tables, dashboards, minute: r.int(0, 59), hour: r.int(1, 5) };
    lakes.set(p.id, lake);
    const o = new Out(r, p);
    // Nightly dashboard refresh at a fixed minute.
    for (const d of days(p))
      for (const db of dashboards) {
        let t = atLocal(p, d, lake.hour + lake.minute / 60) + r.int(0, 20) * 1000;
        t = o.step({ ts: t, type: "tool_call", action: "dashboard.refresh", resource: db.name });
        for (const tb of db.tables) {
          const rows = r.int(10, 500);
          t = o.step({
            ts: t + r.int(200, 3000),
            type: "data_access",
            action: "warehouse.query",
            resource: tb.name,
            attributes: { rowsReturned: rows, bytes_scanned: tb.rows * tb.rowBytes * r.int(5, 30) },
          });
        }
      }
    const reporting = new Set(monthStarts(p, 2));
    for (const d of reporting) windows.push(dayWindow(p, "busy_day", d, d, "month-end reporting: reads 20× the usual"));
    const busy = busyDays(r, p, r.int(0, 2), 2, 3.5);
    for (const [b, k] of busy) windows.push(dayWindow(p, "busy_day", b, b, `busy day ×${k.toFixed(1)}`));
    const rate = r.uniform(0.3, 1.2);
    hourly(
      r,
      p,
      rate,
      (h, dow) => (weekend(dow) ? 0.02 : h >= 9 && h < 18 ? (h === 12 ? 0.4 : 1) : h >= 18 && h < 21 ? 0.1 : 0),
      (day) => (holiday(p, day) ? 0.05 : reporting.has(day) ? 2 : (busy.get(day) ?? 1)),
      (t) => session(r, p, o, t, reporting.has(clock(p, t).day) ? 20 : 1, t >= shared.rolloutAt),
    );
    windows.push({ type: "new_tool", start: shared.rolloutAt, end: shared.rolloutAt + 3 * DAY, detail: "rollout: warehouse.explain before queries" });
    return finish(
      r,
      p,
      o.evs,
      windows,
      `${p.zone.name}, ${tables.length} tables, ${dashboards.length} dashboards at ${lake.hour}:${String(lake.minute).padStart(2, "0")}, ${rate.toFixed(1)} sessions/h`,
    );
  },
  task(r, p, t) {
    const o = new Out(r, { ...p, errRate: 0 });
    session(r, p, o, t, 1, false);
    return o.evs.map((g) => g.ev);
  },
};
