import type { BenignType, BenignWindow } from "../types.ts";
import {
  DAY,
  type Drawn,
  drawOutage,
  emit,
  ev,
  type Gen,
  gap,
  H,
  isBusiness,
  isoDay,
  latency,
  localDay,
  localToUtc,
  type Profile,
  type Tool,
  weekday,
  ZONES,
} from "./model.ts";
import type { Rng } from "./random.ts";

const T = (action: string, type: Tool["type"]): Tool => ({ action, type });
const FOREIGN: Tool[] = [
  T("payment.wire.send", "transaction"),
  T("iam.role.grant", "api_request"),
  T("crm.export", "data_access"),
  T("secrets.read", "data_access"),
  T("db.query.raw", "data_access"),
];
const noShift = () => 0;

/** Local days overlapping [start, end), with the labels that hold on each. */
function days(p: Profile): number[] {
  const out: number[] = [];
  for (let d = localDay(p, p.start) - 1; d <= localDay(p, p.end); d++) out.push(d);
  return out;
}

/** Benign window bookkeeping: one window per labelled local day (merged when consecutive). */
function mark(benign: BenignWindow[], p: Profile, type: BenignType, d: number, detail: string): void {
  const from = localToUtc(p, d, 0);
  const to = localToUtc(p, d + 1, 0);
  const last = benign.at(-1);
  if (last && last.type === type && last.detail === detail && Math.abs(last.end - from) < H * 2) last.end = to;
  else benign.push({ type, start: from, end: to, detail });
}

const isin = (r: Rng, cc: string): string => {
  const a = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
  let s = `isin:${cc}`;
  for (let k = 0; k < 9; k++) s += a[r.int(0, a.length - 1)];
  return s + String(r.int(0, 9));
};

/** Drops outage days, returns the dropped count; a backlog replay is the archetype's business. */
const inOutage = (o: { from: number; to: number } | undefined, ts: number): boolean => o !== undefined && ts >= o.from && ts < o.to;

// ───────────────────────────── securities-settlement ─────────────────────────────
export function drawSettlement(r: Rng, id: string, i: number, start: number, end: number): Drawn {
  const zone = ZONES[[0, 1, 2, 3, 6, 7][i % 6]!]!;
  const scale = [1, 0.6, 1.6, 0.12, 1, 0.8][i % 6]!;
  const cc =
    { "America/New_York": "US", "Europe/London": "GB", "Europe/Berlin": "DE", "Asia/Tokyo": "JP", "Asia/Singapore": "SG", "America/Chicago": "US" }[
      zone.name
    ] ?? "XS";
  const ccy = { US: "USD", GB: "GBP", DE: "EUR", JP: "JPY", SG: "SGD" }[cc] ?? "USD";
  const pool = Array.from({ length: r.int(80, 220) }, () => isin(r, r.chance(0.8) ? cc : r.pick(["US", "DE", "FR", "GB", "NL"])));
  const fresh = Array.from({ length: 25 }, () => isin(r, cc));
  const newResAt = r.chance(0.5) ? start + r.between(0.4, 0.8) * (end - start) : Number.POSITIVE_INFINITY;
  const failRate = r.between(0.02, 0.05);
  const median = r.logNormal(1.5e6, 0.5) * (ccy === "JPY" ? 140 : 1);
  const tools = [
    T("trade.match", "tool_call"),
    T("settlement.instruct", "transaction"),
    T("settlement.confirm", "transaction"),
    T("fail.investigate", "data_access"),
  ];
  const [match, instruct, confirm, fail] = tools as [Tool, Tool, Tool, Tool];
  const dormant = [T("settlement.cancel", "transaction"), T("settlement.amend", "transaction")];
  const p: Profile = {
    id,
    kind: "securities-settlement",
    zone,
    start,
    end,
    shift: noShift,
    scopes: ["trade.match", "settlement.instruct", "settlement.confirm", "fail.investigate", "settlement.cancel", "settlement.amend"],
    tools,
    dormant,
    foreign: FOREIGN,
    money: { tool: instruct, median, currency: ccy, resource: (rr) => rr.pick(pool) },
    hours: [16, 18],
    orphan: (rr, ts) =>
      ev(ts, confirm, "success", { resource: isin(rr, cc), amount: Math.round(rr.logNormal(median, 1)), currency: ccy, latencyMs: latency(rr, 180) }),
  };
  const normal: Gen[] = [];
  const benign: BenignWindow[] = [];
  const bigDay = r.chance(0.5) ? localDay(p, start + r.between(0.3, 0.9) * (end - start)) : -1;
  let pending: { res: string; amount: number }[] = [];
  for (const d of days(p)) {
    if (!isBusiness(p, d)) {
      if (p.zone.holidays.includes(isoDay(d)) && weekday(d) % 6 !== 0) mark(benign, p, "holiday_lull", d, "exchange holiday: no cycle");
      continue;
    }
    const monthEnd = isoDay(d) === "2026-10-30";
    const mult = monthEnd ? 3 : 1;
    const lbl: BenignType | undefined = monthEnd ? "busy_day" : undefined;
    if (monthEnd) mark(benign, p, "busy_day", d, "month-end settlement peak (3x)");
    // near-silent outside the window
    for (let k = r.poisson(0.6 * Math.sqrt(scale)); k > 0; k--) {
      const ts = localToUtc(p, d, r.between(8, 15.9));
      emit(r, normal, { ev: ev(ts, match, "success", { resource: r.pick(pool), latencyMs: latency(r, 120) }) });
    }
    let t = localToUtc(p, d, 16 + r.between(0, 0.2));
    for (const x of pending) {
      t += gap(r, 1.5, 1.5, 300);
      const failed = r.chance(failRate);
      emit(r, normal, {
        ev: ev(t, confirm, failed ? "error" : "success", { resource: x.res, amount: x.amount, currency: ccy, latencyMs: latency(r, 180) }),
        benign: lbl,
      });
      if (failed) {
        t += gap(r, 20, 1.2, 1800);
        emit(r, normal, { ev: ev(t, fail, "success", { resource: x.res, latencyMs: latency(r, 400) }), benign: lbl });
      }
    }
    pending = [];
    const n = r.poisson(40 * scale * mult);
    for (let k = 0; k < n; k++) {
      const newRes = t >= newResAt && r.chance(0.25);
      const res = newRes ? r.pick(fresh) : r.pick(pool);
      t += gap(r, 2, 1.4, 600);
      emit(r, normal, {
        ev: ev(t, match, r.chance(0.01) ? "error" : "success", { resource: res, latencyMs: latency(r, 120) }),
        benign: lbl ?? (newRes ? "new_resource" : undefined),
      });
      t += gap(r, 1, 1.6, 120);
      const big = d === bigDay && k === 0;
      const amount = Math.round(r.logNormal(median, 0.9) * (big ? 12 : 1));
      emit(r, normal, {
        ev: ev(t, instruct, "success", { resource: res, amount, currency: ccy, latencyMs: latency(r, 200) }),
        benign: big ? "big_ticket" : (lbl ?? (newRes ? "new_resource" : undefined)),
      });
      if (big) benign.push({ type: "big_ticket", start: t - 1, end: t + 1, detail: "block trade 12x median" });
      pending.push({ res, amount });
    }
  }
  if (newResAt < end) benign.push({ type: "new_resource", start: newResAt, end, detail: "25 newly listed ISINs" });
  return { p, normal, benign, profile: `${zone.name}, ${Math.round(40 * scale)} trades/day, fail ${(failRate * 100).toFixed(1)}%` };
}

// ───────────────────────────── treasury-fx-hedger ─────────────────────────────
const CB_DAYS = ["2026-10-28", "2026-10-29", "2026-11-05", "2026-11-19"];
export function drawTreasury(r: Rng, id: string, i: number, start: number, end: number): Drawn {
  const zone = ZONES[[1, 0, 4, 2, 5, 6][i % 6]!]!;
  const scale = [1, 1.5, 0.5, 1, 0.3, 2][i % 6]!;
  const base =
    { "Europe/London": "GBP", "America/New_York": "USD", "Pacific/Auckland": "NZD", "Europe/Berlin": "EUR", "Asia/Kolkata": "INR", "Asia/Singapore": "SGD" }[
      zone.name
    ] ?? "USD";
  const others = ["USD", "EUR", "JPY", "GBP", "CHF", "AUD"].filter((c) => c !== base);
  const median = r.logNormal(15e6, 0.5);
  const tools = [T("fx.quote", "api_request"), T("fx.execute", "transaction"), T("position.read", "data_access"), T("limit.check", "api_request")];
  const [quote, exec, pos, limit] = tools as [Tool, Tool, Tool, Tool];
  const positions = r.int(40, 260);
  const books = Array.from({ length: r.int(3, 8) }, (_, k) => `book:${id.slice(-1)}-${k}`);
  const p: Profile = {
    id,
    kind: "treasury-fx-hedger",
    zone,
    start,
    end,
    shift: noShift,
    scopes: ["fx.quote", "fx.execute", "position.read", "limit.check", "fx.option.execute", "fx.ndf.execute"],
    tools,
    dormant: [T("fx.option.execute", "transaction"), T("fx.ndf.execute", "transaction")],
    foreign: FOREIGN,
    money: { tool: exec, median, currency: base, resource: (rr) => `pair:${base}${rr.pick(others)}` },
    volume: { tool: pos, key: "positions", median: positions, resource: (rr) => rr.pick(books) },
    hours: [8, 17],
    orphan: (rr, ts) =>
      ev(ts, exec, "success", {
        resource: `pair:${base}${rr.pick(others)}`,
        amount: Math.round(rr.logNormal(median, 0.6)),
        currency: base,
        latencyMs: latency(rr, 250),
        attributes: { buyCcy: base, sellCcy: rr.pick(others) },
      }),
  };
  const normal: Gen[] = [];
  const benign: BenignWindow[] = [];
  const bigDay = r.chance(0.6) ? localDay(p, start + r.between(0.3, 0.9) * (end - start)) : -1;
  for (const d of days(p)) {
    if (!isBusiness(p, d)) {
      if (p.zone.holidays.includes(isoDay(d)) && weekday(d) % 6 !== 0) mark(benign, p, "holiday_lull", d, "bank holiday");
      continue;
    }
    const cb = CB_DAYS.includes(isoDay(d));
    if (cb) mark(benign, p, "busy_day", d, "central-bank decision day (4x)");
    const lbl: BenignType | undefined = cb ? "busy_day" : undefined;
    const mult = cb ? 4 : 1;
    for (let k = r.poisson(3 * mult); k >= 0; k--) {
      const ts = localToUtc(p, d, r.between(7.5, 17.5));
      emit(r, normal, {
        ev: ev(ts, pos, r.chance(0.015) ? "error" : "success", {
          resource: r.pick(books),
          latencyMs: latency(r, 600),
          attributes: { positions: Math.max(1, Math.round(positions * r.between(0.9, 1.1))) },
        }),
        benign: lbl,
      });
    }
    const swaps = r.poisson(4 * scale * mult);
    for (let k = 0; k < swaps; k++) {
      let t = localToUtc(p, d, r.between(8, 17));
      const sell = r.pick(others);
      const res = `pair:${base}${sell}`;
      const big = d === bigDay && k === 0;
      const amount = Math.round(r.logNormal(median, 0.6) * (big ? 8 : 1));
      const denied = r.chance(0.06);
      emit(r, normal, { ev: ev(t, limit, denied ? "denied" : "success", { resource: res, amount, currency: base, latencyMs: latency(r, 90) }), benign: lbl });
      if (denied) continue;
      t += gap(r, 0.5, 1.5, 60);
      emit(r, normal, {
        ev: ev(t, quote, r.chance(0.02) ? "error" : "success", { resource: res, latencyMs: latency(r, 150), attributes: { buyCcy: base, sellCcy: sell } }),
        benign: lbl,
      });
      t += gap(r, 3, 1.3, 90);
      emit(r, normal, {
        ev: ev(t, exec, "success", { resource: res, amount, currency: base, latencyMs: latency(r, 250), attributes: { buyCcy: base, sellCcy: sell } }),
        benign: big ? "big_ticket" : lbl,
      });
      if (big) benign.push({ type: "big_ticket", start: t - 1, end: t + 1, detail: "quarterly hedge roll 8x median" });
    }
  }
  return { p, normal, benign, profile: `${zone.name}, ${(4 * scale).toFixed(1)} swaps/day, ${positions} positions` };
}

// ───────────────────────────── document-intake-ocr ─────────────────────────────
export function drawOcr(r: Rng, id: string, i: number, start: number, end: number): Drawn {
  const zone = ZONES[[2, 3, 0, 5, 1, 4][i % 6]!]!;
  const scale = [1, 0.7, 1.3, 0.04, 0.8, 1][i % 6]!;
  const tools = [T("doc.upload", "data_access"), T("ocr.extract", "tool_call"), T("classify.run", "tool_call"), T("index.write", "data_access")];
  const [upload, ocr, cls, index] = tools as [Tool, Tool, Tool, Tool];
  const redact = T("doc.redact", "tool_call");
  const newToolAt = r.chance(0.5) ? start + r.between(0.4, 0.8) * (end - start) : Number.POSITIVE_INFINITY;
  const pagesMed = r.between(3, 12);
  let seq = 0;
  const p: Profile = {
    id,
    kind: "document-intake-ocr",
    zone,
    start,
    end,
    shift: noShift,
    scopes: ["doc.upload", "ocr.extract", "classify.run", "index.write", "doc.redact", "doc.delete", "index.purge"],
    tools,
    dormant: [T("doc.delete", "data_access"), T("index.purge", "data_access")],
    foreign: FOREIGN,
    volume: { tool: ocr, key: "pages", median: pagesMed, resource: () => `doc:${id.slice(-1)}-${seq++}` },
    hours: [1, 19],
    orphan: (rr, ts) => ev(ts, index, "success", { resource: `doc:${id.slice(-1)}-x${rr.int(1e5, 9e5)}`, latencyMs: latency(rr, 40) }),
  };
  const out = drawOutage(r, start, end, 0.85);
  const normal: Gen[] = [];
  const benign: BenignWindow[] = [];
  let backlog = 0;
  const doc = (t0: number, lbl: BenignType | undefined): number => {
    let t = t0;
    const res = `doc:${id.slice(-1)}-${seq++}`;
    const pages = Math.max(1, Math.round(r.logNormal(pagesMed, 0.8)));
    const sizeBytes = Math.round(pages * r.logNormal(180_000, 0.4));
    emit(r, normal, { ev: ev(t, upload, "success", { resource: res, latencyMs: latency(r, 300), attributes: { pages, sizeBytes } }), benign: lbl });
    t += gap(r, 1, 1.5, 120);
    emit(r, normal, {
      ev: ev(t, ocr, r.chance(0.03) ? "error" : "success", { resource: res, latencyMs: latency(r, 900 * pages), attributes: { pages, sizeBytes } }),
      benign: lbl,
    });
    t += gap(r, 0.5, 1.6, 60);
    emit(r, normal, { ev: ev(t, cls, "success", { resource: res, latencyMs: latency(r, 200) }), benign: lbl });
    if (t >= newToolAt && r.chance(0.3)) {
      t += gap(r, 0.5, 1.6, 60);
      emit(r, normal, { ev: ev(t, redact, "success", { resource: res, latencyMs: latency(r, 400) }), benign: "new_tool" });
    }
    t += gap(r, 0.5, 1.6, 60);
    emit(r, normal, { ev: ev(t, index, "success", { resource: res, latencyMs: latency(r, 40) }), benign: lbl });
    return t;
  };
  for (const d of days(p)) {
    const dayStart = localToUtc(p, d, 0);
    const we = weekday(d) === 0 || weekday(d) === 6;
    const hol = p.zone.holidays.includes(isoDay(d));
    if (inOutage(out, dayStart + 12 * H)) {
      backlog += r.poisson(45 * scale * (we ? 0.4 : 1)) + r.poisson(8 * scale);
      continue;
    }
    const catchup = backlog > 0;
    if (catchup) mark(benign, p, "outage_catchup", d, `backlog of ${backlog} documents after 2-day outage`);
    if (hol && !we) mark(benign, p, "holiday_lull", d, "public holiday");
    const lbl: BenignType | undefined = catchup ? "outage_catchup" : hol ? "holiday_lull" : undefined;
    let n = r.poisson(45 * scale * (we || hol ? 0.4 : 1)) + backlog;
    backlog = 0;
    let t = localToUtc(p, d, 1 + r.between(0, 0.5));
    while (n-- > 0) t = doc(t + gap(r, 2, 1.4, 900), lbl);
    if (!we && !hol) for (let k = r.poisson(8 * scale); k > 0; k--) doc(localToUtc(p, d, r.between(9, 18)), lbl);
  }
  if (out) benign.push({ type: "outage_catchup", start: out.from, end: out.to, detail: "scanner outage (silence)" });
  if (newToolAt < end) benign.push({ type: "new_tool", start: newToolAt, end, detail: "doc.redact introduced" });
  return { p, normal, benign, profile: `${zone.name}, ~${Math.round(53 * scale)} docs/day, ${out ? "outage" : "no outage"}` };
}

// ───────────────────────────── sales-crm-assistant ─────────────────────────────
export function drawSales(r: Rng, id: string, i: number, start: number, end: number): Drawn {
  const zone = ZONES[[0, 1, 3, 7, 6, 2][i % 6]!]!;
  const scale = [1, 0.8, 1.3, 0.15, 1, 0.6][i % 6]!;
  const tools = [
    T("crm.contact.read", "data_access"),
    T("crm.note.write", "data_access"),
    T("email.compose", "message"),
    T("calendar.book", "tool_call"),
    T("crm.export", "data_access"),
  ];
  const [read, note, mail, cal, exp] = tools as [Tool, Tool, Tool, Tool, Tool];
  const opp = T("crm.opportunity.update", "data_access");
  const newToolAt = r.chance(0.5) ? start + r.between(0.3, 0.8) * (end - start) : Number.POSITIVE_INFINITY;
  const contacts = Array.from({ length: r.int(80, 400) }, (_, k) => `contact:${id.slice(-1)}${String(k).padStart(4, "0")}`);
  const rows = r.int(60, 400);
  // travel week: active hours shift by 6–9 h
  const travelFrom = r.chance(0.7) ? Math.floor((start + r.between(0.25, 0.75) * (end - start)) / DAY) * DAY : Number.POSITIVE_INFINITY;
  const shiftH = (r.chance(0.5) ? 1 : -1) * r.int(6, 9);
  const shift = (ts: number) => (ts >= travelFrom && ts < travelFrom + 7 * DAY ? shiftH : 0);
  const p: Profile = {
    id,
    kind: "sales-crm-assistant",
    zone,
    start,
    end,
    shift,
    scopes: [
      "crm.contact.read",
      "crm.note.write",
      "email.compose",
      "calendar.book",
      "crm.export",
      "crm.opportunity.update",
      "crm.contact.delete",
      "crm.bulk.update",
    ],
    tools,
    dormant: [T("crm.contact.delete", "data_access"), T("crm.bulk.update", "data_access")],
    foreign: FOREIGN.filter((f) => f.action !== "crm.export").concat([T("fx.execute", "transaction")]),
    volume: { tool: exp, key: "rowCount", median: rows, resource: () => "report:pipeline" },
    hours: [8.5, 18],
    orphan: (rr, ts) => ev(ts, note, "success", { resource: `contact:${id.slice(-1)}x${rr.int(1e4, 9e4)}`, latencyMs: latency(rr, 150) }),
  };
  const normal: Gen[] = [];
  const benign: BenignWindow[] = [];
  const pushFrom = localDay(p, Date.UTC(2026, 10, 23));
  for (const d of days(p)) {
    const dayStart = localToUtc(p, d, 12);
    const travel = shift(dayStart) !== 0;
    if (travel) mark(benign, p, "shift_change", d, `RM travelling, ${shiftH > 0 ? "+" : ""}${shiftH} h`);
    if (!isBusiness(p, d)) {
      if (p.zone.holidays.includes(isoDay(d)) && weekday(d) % 6 !== 0) mark(benign, p, "holiday_lull", d, "public holiday");
      if (r.chance(0.08))
        emit(r, normal, { ev: ev(localToUtc(p, d, r.between(10, 20)), read, "success", { resource: r.pick(contacts), latencyMs: latency(r, 120) }) });
      continue;
    }
    const push = d >= pushFrom;
    if (push) mark(benign, p, "busy_day", d, "fiscal quarter-end push");
    const lbl: BenignType | undefined = travel ? "shift_change" : push ? "busy_day" : undefined;
    const sessions = r.poisson(7 * scale * (push ? 1.8 : 1));
    for (let s = 0; s < sessions; s++) {
      let t = localToUtc(p, d, r.between(8.5, 17.5));
      const c = r.pick(contacts);
      for (let k = r.int(1, 4); k > 0; k--) {
        emit(r, normal, {
          ev: ev(t, read, r.chance(0.01) ? "error" : "success", { resource: k === 1 ? c : r.pick(contacts), latencyMs: latency(r, 120) }),
          benign: lbl,
        });
        t += gap(r, 5, 1.2, 900);
      }
      if (r.chance(0.6)) {
        emit(r, normal, { ev: ev(t, note, "success", { resource: c, latencyMs: latency(r, 150) }), benign: lbl });
        t += gap(r, 10, 1.2, 900);
      }
      if (r.chance(0.5)) {
        emit(r, normal, { ev: ev(t, mail, r.chance(0.02) ? "error" : "success", { resource: c, latencyMs: latency(r, 2500) }), benign: lbl });
        t += gap(r, 10, 1.2, 900);
      }
      if (r.chance(0.25)) emit(r, normal, { ev: ev(t, cal, "success", { resource: c, latencyMs: latency(r, 300) }), benign: lbl });
      if (t >= newToolAt && r.chance(0.3))
        emit(r, normal, { ev: ev(t + gap(r, 5, 1.3, 600), opp, "success", { resource: c, latencyMs: latency(r, 200) }), benign: "new_tool" });
    }
    if (r.chance(push ? 0.3 : 0.08))
      emit(r, normal, {
        ev: ev(localToUtc(p, d, r.between(9, 17)), exp, "success", {
          resource: "report:pipeline",
          latencyMs: latency(r, 3000),
          attributes: { rowCount: Math.round(r.logNormal(rows, 0.4)) },
        }),
        benign: lbl,
      });
  }
  if (newToolAt < end) benign.push({ type: "new_tool", start: newToolAt, end, detail: "crm.opportunity.update introduced" });
  return { p, normal, benign, profile: `${zone.name}, ${(7 * scale).toFixed(1)} sessions/day, travel ${Number.isFinite(travelFrom) ? `${shiftH} h` : "none"}` };
}

// ───────────────────────────── access-review-bot ─────────────────────────────
const REVIEW_DAYS = ["2026-10-05", "2026-11-02"];
export function drawAccess(r: Rng, id: string, i: number, start: number, end: number): Drawn {
  const zone = ZONES[[1, 4, 0, 3, 2, 5][i % 6]!]!;
  const users = r.int(300, 4000);
  const tools = [T("user.list", "api_request"), T("entitlement.read", "data_access"), T("access.revoke", "api_request"), T("ticket.create", "tool_call")];
  const [list, read, revoke, ticket] = tools as [Tool, Tool, Tool, Tool];
  const uid = (k: number) => `user:u${String(k).padStart(5, "0")}`;
  const p: Profile = {
    id,
    kind: "access-review-bot",
    zone,
    start,
    end,
    shift: noShift,
    scopes: ["user.list", "entitlement.read", "access.revoke", "ticket.create", "access.grant", "role.assign"],
    tools,
    dormant: [T("access.grant", "api_request"), T("role.assign", "api_request")],
    foreign: FOREIGN,
    volume: { tool: list, key: "count", median: Math.min(users, 500), resource: () => "directory:corp" },
    hours: [6, 18],
    orphan: (rr, ts) => ev(ts, revoke, "success", { resource: uid(rr.int(users + 1, users + 9000)), latencyMs: latency(rr, 350) }),
  };
  const normal: Gen[] = [];
  const benign: BenignWindow[] = [];
  const out = drawOutage(r, start, end, 0.3);
  let catchupDue = false;
  const reviewShare = r.between(0.03, 0.1);
  const reviewed = r.int(60, 300);
  for (const d of days(p)) {
    const noon = localToUtc(p, d, 12);
    if (inOutage(out, noon)) {
      catchupDue = true;
      continue;
    }
    const lbl: BenignType | undefined = catchupDue ? "outage_catchup" : undefined;
    if (catchupDue) mark(benign, p, "outage_catchup", d, "missed syncs replayed");
    // daily directory sync (paged), replayed after an outage
    for (let rep = catchupDue ? 3 : 1; rep > 0; rep--) {
      let t = localToUtc(p, d, 6 + r.between(0, 0.3));
      for (let left = users; left > 0; left -= 500) {
        emit(r, normal, {
          ev: ev(t, list, r.chance(0.02) ? "error" : "success", {
            resource: "directory:corp",
            latencyMs: latency(r, 700),
            attributes: { count: Math.min(500, left) },
          }),
          benign: lbl,
        });
        t += gap(r, 1, 1.5, 60);
      }
    }
    catchupDue = false;
    if (isBusiness(p, d)) {
      for (let k = r.poisson(1.5); k > 0; k--)
        emit(r, normal, { ev: ev(localToUtc(p, d, r.between(8, 18)), read, "success", { resource: uid(r.int(1, users)), latencyMs: latency(r, 200) }) });
      for (let k = r.poisson(0.4); k > 0; k--)
        emit(r, normal, { ev: ev(localToUtc(p, d, r.between(8, 18)), ticket, "success", { resource: "queue:iam", latencyMs: latency(r, 400) }) });
    }
    if (REVIEW_DAYS.includes(isoDay(d))) {
      mark(benign, p, "busy_day", d, "monthly access review");
      let t = localToUtc(p, d, 9 + r.between(0, 1));
      let revoked = 0;
      for (let k = 0; k < reviewed; k++) {
        const u = uid(r.int(1, users));
        t += gap(r, 1, 1.4, 300);
        emit(r, normal, { ev: ev(t, read, "success", { resource: u, latencyMs: latency(r, 200) }), benign: "busy_day" });
        if (r.chance(reviewShare)) {
          t += gap(r, 1, 1.4, 120);
          emit(r, normal, { ev: ev(t, revoke, r.chance(0.05) ? "error" : "success", { resource: u, latencyMs: latency(r, 350) }), benign: "busy_day" });
          if (++revoked % 5 === 0)
            emit(r, normal, { ev: ev(t + 500, ticket, "success", { resource: "queue:iam", latencyMs: latency(r, 400) }), benign: "busy_day" });
        }
      }
    }
  }
  if (out) benign.push({ type: "outage_catchup", start: out.from, end: out.to, detail: "directory API outage (silence)" });
  return { p, normal, benign, profile: `${zone.name}, ${users} users, reviews ${reviewed}` };
}
