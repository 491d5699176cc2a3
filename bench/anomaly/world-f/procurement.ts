import type { SimEvent } from "../sim-event.ts";
import type { BenignType } from "../types.ts";
import { DAY, type Drawn, type Gen, HOUR, hourly, isBusinessDay, local, MIN, type Params, round2, SEC, Seq, windowsOf, type Zone, ZONES } from "./model.ts";
import type { Rng } from "./random.ts";

/** Procurement agent: invoice → PO match → vendor lookup → payment or reject; vendor onboarding; a KYC tool rollout. */
const SETUPS: [Zone, string, number][] = [
  [ZONES.berlin!, "EUR", 1],
  [ZONES.london!, "GBP", 0.85],
  [ZONES.newYork!, "USD", 1.1],
  [ZONES.kathmandu!, "NPR", 145],
  [ZONES.tokyo!, "JPY", 160],
];

export interface ProcShared {
  kycAt: number;
  quiet: number;
}

export function procShared(r: Rng, end: number): ProcShared {
  // The KYC tool goes live for every agent of the archetype on one day, 6–17 days before the end, 06:00 UTC.
  return { kycAt: end - r.int(6, 17) * DAY + 6 * HOUR, quiet: r.int(0, 4) };
}

export function drawProcurement(r: Rng, id: string, i: number, start: number, end: number, sh: ProcShared): Drawn {
  const [zone, currency, fx] = SETUPS[i % SETUPS.length]!;
  const quiet = i === sh.quiet;
  const rate = quiet ? r.between(0.3, 0.45) : r.between(1.5, 5);
  const median = r.between(800, 15000) * fx;
  const errRate = r.between(0.004, 0.02);
  const rejectP = r.between(0.06, 0.15);
  const vendors: string[] = Array.from({ length: r.int(40, 200) }, (_, k) => `vendor:V${1000 + k}`);
  const w: number[] = vendors.map((_, k) => 1 / (k + 1) ** 0.9);
  const onboarded = new Map<string, number>();
  let invN = r.int(100000, 900000);
  const normal: Gen[] = [];

  const invoice = (t: number, benign?: BenignType, vendorIdx?: number): Gen[] => {
    const s = new Seq(r, t, errRate, benign);
    const inv = `inv:${invN++}`;
    const k = vendorIdx ?? r.weighted(w);
    const v = vendors[k]!;
    const fresh = onboarded.has(v) && t < onboarded.get(v)! + 2 * DAY;
    const kyc = t >= sh.kycAt;
    s.step("data_access", "invoice.ingest", { resource: inv, attributes: { pages: r.int(1, 6), lines: r.int(1, 40) } }, 900);
    s.gap(5 * SEC, 1.4, 10 * MIN).step("api_request", "po.match", { resource: inv }, 300);
    s.gap(3 * SEC, 1.4, 5 * MIN).step("data_access", "vendor.lookup", { resource: v }, 150);
    if (kyc && (fresh || r.chance(0.25))) s.gap(5 * SEC, 1.4, 5 * MIN).step("api_request", "vendor.kyc_check", { resource: v }, 2500);
    if (r.chance(0.01)) s.gap(MIN, 1.4).step("tool_call", "invoice.hold", { resource: inv }, 120);
    if (r.chance(rejectP))
      s.gap(10 * SEC, 1.4).step(
        "tool_call",
        "invoice.reject",
        { resource: inv, attributes: { reason: r.pick(["no_po", "price_mismatch", "duplicate", "qty_mismatch"]) } },
        120,
      );
    else
      s.gap(20 * SEC, 1.4).step(
        "transaction",
        "payment.schedule",
        { resource: v, amount: round2(r.lognormal(median, 1.1)), currency, attributes: { invoice: inv } },
        350,
      );
    const label: BenignType | undefined =
      benign ?? (fresh ? "new_resource" : kyc && t < sh.kycAt + 3 * DAY && s.out.some((g) => g.ev.action === "vendor.kyc_check") ? "new_tool" : undefined);
    if (label) for (const g of s.out) g.benign = label;
    return s.out;
  };

  // Vendor onboarding every 7–14 days on a business day: 2–6 new vendors with their first invoices.
  const onboardDays: number[] = [];
  for (let t = start + r.between(4, 10) * DAY; t < end; t += r.between(7, 14) * DAY) onboardDays.push(t);
  let nextOnboard = 0;
  hourly(
    r,
    start,
    end,
    (l) => (l.weekend || l.holiday || l.hour < 8 || l.hour >= 18 ? 0 : rate * (l.hour >= 12 && l.hour < 13 ? 0.5 : 1) * (l.dom >= 28 || l.dom <= 2 ? 1.4 : 1)),
    (t) => {
      const l = local(zone, t);
      while (nextOnboard < onboardDays.length && onboardDays[nextOnboard]! <= t && isBusinessDay(zone, l.ymd) && l.hour >= 9) {
        const n = r.int(2, 6);
        for (let k = 0; k < n; k++) {
          const v = `vendor:V${1000 + vendors.length}`;
          vendors.push(v);
          w.push(0.25);
          onboarded.set(v, t);
          normal.push(...invoice(t + k * r.between(5, 20) * MIN, "new_resource", vendors.length - 1));
        }
        nextOnboard++;
      }
      normal.push(...invoice(t));
    },
    zone,
  );
  const kept = normal.filter((g) => g.ev.ts >= start && g.ev.ts < end).sort((a, b) => a.ev.ts - b.ev.ts);
  const benign = [
    ...windowsOf(kept, "new_resource", "vendor onboarding: new vendors' first invoices (2 days)"),
    ...windowsOf(kept, "new_tool", "vendor.kyc_check rolled out to the archetype (3 days)"),
  ];
  const p: Params = {
    id,
    arch: "procurement-agent",
    zone,
    start,
    end,
    currency,
    scopes: [
      "invoice.ingest",
      "po.match",
      "vendor.lookup",
      "vendor.kyc_check",
      "payment.schedule",
      "invoice.reject",
      "invoice.hold",
      "vendor.bank_change",
      "payment.expedite",
      "po.create",
      "vendor.create",
      "invoice.split",
      "credit_note.apply",
      "budget.check",
      "contract.fetch",
    ],
    top: { action: "invoice.ingest", type: "data_access", resources: Array.from({ length: 40 }, () => `inv:${r.int(100000, invN)}`) },
    money: { action: "payment.schedule", type: "transaction", median },
    rare: {
      action: "invoice.hold",
      make: (rr, t) => ({
        ts: Math.round(t),
        type: "tool_call",
        action: "invoice.hold",
        resource: `inv:${rr.int(100000, invN)}`,
        outcome: "success",
        latencyMs: Math.round(rr.lognormal(120, 0.4)),
      }),
    },
    dormant: ["vendor.bank_change", "payment.expedite"],
    discover: ["po.create", "vendor.create", "invoice.split", "credit_note.apply", "budget.check", "contract.fetch"],
    foreign: ["wire.send", "payroll.approve", "employee.read", "iam.role_grant"],
    common: [
      { action: "invoice.ingest", type: "data_access" },
      { action: "po.match", type: "api_request" },
      { action: "vendor.lookup", type: "data_access" },
    ],
    task: (_rr, t) => invoice(t).map((g) => ({ ...g.ev })),
    impossible: (rr, t) => {
      const n = rr.int(1, 3);
      const events: SimEvent[] = Array.from({ length: n }, (_, k) => ({
        ts: Math.round(t + k * rr.between(2 * MIN, 25 * MIN)),
        type: "transaction" as const,
        action: "payment.schedule",
        resource: rr.chance(0.5) ? `vendor:V${9000 + rr.int(0, 999)}` : rr.pick(vendors),
        amount: round2(rr.lognormal(median, 0.5)),
        currency,
        outcome: "success" as const,
        latencyMs: 350,
        attributes: { invoice: `inv:${rr.int(1000, 99999)}` },
      }));
      return { events, variant: `${n}× payment.schedule of an invoice never ingested or matched` };
    },
  };
  return {
    p,
    normal: kept,
    benign,
    profile: `${zone.name} ${currency}, ${rate.toFixed(1)} invoices/h, median payment ${median.toFixed(0)}, ${vendors.length} vendors${quiet ? ", quiet" : ""}`,
  };
}
