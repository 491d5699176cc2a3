import type { SimEvent } from "../sim-event.ts";
import type { BenignWindow } from "../types.ts";
import { baseProfile, dayWindow, finish } from "./agent.ts";
import type { Arch } from "./arch.ts";
import { clock, DAY, gap, type Gen, holiday, hourly, MIN, Out, type Profile, weekend, ZONES } from "./model.ts";
import type { Rand } from "./random.ts";

const seq = new Map<string, number>();
const nextApplicant = (p: Profile): string => {
  const n = (seq.get(p.id) ?? 0) + 1;
  seq.set(p.id, n);
  return `applicant:${p.id.slice(-1)}${n.toString(36)}`;
};

/** One onboarding: create → OCR → (liveness) → verify → (screen) → decision. Returns the verify step's index. */
function onboarding(r: Rand, p: Profile, o: Out, t: number, rolled: boolean): void {
  const resource = nextApplicant(p);
  t =
    o.step({ ts: t, type: "api_request", action: "applicant.create", resource, attributes: { channel: r.pick(["web", "app", "partner"]) } }) +
    gap(r, 5, 1.3, 900);
  t = o.step({ ts: t, type: "tool_call", action: "docs.ocr", resource, attributes: { pages: r.int(1, 6) } }) + gap(r, 2, 1.5, 300);
  if (rolled) t = o.step({ ts: t, type: "tool_call", action: "docs.liveness", resource }) + gap(r, 2, 1.5, 300);
  t = o.step({ ts: t, type: "api_request", action: "docs.verify", resource }) + gap(r, 2, 1.5, 600);
  if (r.chance(0.5))
    t =
      o.step({ ts: t, type: "api_request", action: "sanctions.screen", resource, attributes: { hits: r.chance(0.9) ? 0 : r.int(1, 3) } }) +
      gap(r, 3, 1.4, 1800);
  if (r.chance(0.01)) {
    o.step({ ts: t, type: "tool_call", action: "applicant.override_approve", resource });
    return;
  }
  const x = r.next();
  o.step({ ts: t, type: "tool_call", action: x < 0.75 ? "applicant.approve" : x < 0.9 ? "applicant.reject" : "applicant.escalate", resource });
}

export const KYC: Arch = {
  name: "kyc-onboarding",
  read: "applicant.search",
  draw(r, id, end, shared) {
    const p = baseProfile(r, id, this.name, end, [ZONES.london, ZONES.berlin, ZONES.newyork, ZONES.singapore, ZONES.sydney], shared, {
      scopes: ["applicant.*", "docs.*", "sanctions.screen"],
      dormant: ["applicant.bulk_export", "applicant.delete"],
      rare: "applicant.override_approve",
      outOfScope: ["sanctions.whitelist_add", "crm.export_contacts", "iam.create_key", "payments.send", "storage.make_public"],
      discover: ["applicant.merge", "applicant.list", "docs.download", "docs.reprocess", "applicant.tag", "docs.redact", "applicant.notes", "docs.compare"],
    });
    seq.set(p.id, 0);
    const o = new Out(r, p);
    const windows: BenignWindow[] = [];
    const first = clock(p, p.start).day;
    const last = clock(p, p.end).day;
    const campaigns: [number, number][] = [];
    for (let k = r.chance(0.4) ? 2 : r.chance(0.7) ? 1 : 0; k > 0; k--) {
      const d = r.int(first + 4, last - 3);
      campaigns.push([d, d + 6]);
      windows.push(dayWindow(p, "busy_day", d, d + 6, "marketing campaign week: 4× applicants"));
    }
    const rate = r.uniform(1, 3.5);
    hourly(
      r,
      p,
      rate,
      (h, dow) => (h >= 8 && h < 20 ? (h >= 12 && h < 14 ? 1.2 : 1) : h >= 20 && h < 23 ? 0.6 : h === 7 ? 0.3 : 0.05) * (weekend(dow) ? 0.5 : 1),
      (d) => (holiday(p, d) ? 0.4 : 1) * (campaigns.some(([a, b]) => d >= a && d <= b) ? 4 : 1),
      (t) => onboarding(r, p, o, t, t >= shared.rolloutAt),
    );
    // Look-ups of existing applicants.
    hourly(
      r,
      p,
      rate * 0.08,
      (h, dow) => (h >= 9 && h < 18 && !weekend(dow) ? 1 : 0),
      () => 1,
      (t) => o.step({ ts: t, type: "data_access", action: "applicant.search", resource: "applicants", attributes: { records: r.int(1, 20) } }),
    );
    // Vendor outages: docs.verify fails for 20–60 min and is retried once the vendor is back.
    const evs: Gen[] = o.evs;
    for (let k = r.int(0, 3); k > 0; k--) {
      const from = r.uniform(p.start + 3 * DAY, p.end - DAY);
      const to = from + r.uniform(20, 60) * MIN;
      const retries: Gen[] = [];
      let tr = to + r.uniform(1, 5) * MIN;
      for (const g of evs)
        if (g.ev.action === "docs.verify" && g.ev.ts >= from && g.ev.ts < to) {
          g.ev = { ...g.ev, outcome: "error", latencyMs: 30_000 };
          tr += Math.round(r.uniform(2, 20) * 1000);
          retries.push({ ev: { ...g.ev, ts: tr, outcome: "success", latencyMs: Math.round(r.lognormal(400, 0.4)) } });
        }
      evs.push(...retries);
      windows.push({
        type: "outage_catchup",
        start: from,
        end: tr,
        detail: `docs.verify vendor outage ${((to - from) / MIN).toFixed(0)} min, ${retries.length} retried`,
      });
    }
    windows.push({ type: "new_tool", start: shared.rolloutAt, end: shared.rolloutAt + 3 * DAY, detail: "rollout: docs.liveness in every onboarding" });
    return finish(r, p, evs, windows, `${p.zone.name}, ${rate.toFixed(1)} applicants/h at peak, ${campaigns.length} campaign weeks`, false);
  },
  task(r, p, t) {
    const o = new Out(r, { ...p, errRate: 0 });
    onboarding(r, p, o, t, false);
    return o.evs.map((g) => g.ev);
  },
  badSequence(r, p, t) {
    const resource = nextApplicant(p);
    const ev = (dt: number, action: string, type: SimEvent["type"]): SimEvent => ({ ts: t + dt, type, action, resource, outcome: "success" });
    // Approved before any document was read or verified; the documents come afterwards.
    return {
      evs: [
        ev(0, "applicant.create", "api_request"),
        ev(9_000, "applicant.approve", "tool_call"),
        ev(40_000, "docs.ocr", "tool_call"),
        ev(70_000, "docs.verify", "api_request"),
      ],
      variant: "approve straight after create, documents after the decision",
    };
  },
};
