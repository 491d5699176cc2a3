import type { SimEvent } from "../sim-event.ts";
import type { BenignWindow } from "../types.ts";
import { baseProfile, busyDays, dayWindow, finish } from "./agent.ts";
import type { Arch } from "./arch.ts";
import { atLocal, clock, DAY, days, gap, holiday, hourly, Out, type Profile, weekend, ZONES } from "./model.ts";
import type { Rand } from "./random.ts";

interface Desk {
  users: number;
  seq: number;
  night: boolean;
}
const desks = new Map<string, Desk>();

const SHIFTS = [6, 14, 22];

function ticket(r: Rand, p: Profile, o: Out, t: number, rolled: boolean): void {
  const d = desks.get(p.id)!;
  const resource = `ticket:${p.id.slice(-1)}-${(++d.seq).toString(36)}`;
  const user = `user:${r.zipf(d.users)}`;
  t = o.step({ ts: t, type: "tool_call", action: "ticket.read", resource }) + gap(r, 3, 1.4, 600);
  if (rolled) t = o.step({ ts: t, type: "tool_call", action: "ticket.ai_summary", resource }) + gap(r, 1, 1.5, 60);
  t = o.step({ ts: t, type: "data_access", action: "user.lookup", resource: user, attributes: { records: 1 } }) + gap(r, 4, 1.3, 900);
  if (r.chance(0.04))
    t =
      o.step({ ts: t, type: "data_access", action: "directory.search", resource: "directory", attributes: { rows_returned: r.int(1, 50) } }) +
      gap(r, 4, 1.3, 900);
  const x = r.next();
  const fix = x < 0.01 ? p.rare : x < 0.45 ? "password.reset" : x < 0.7 ? "user.unlock" : x < 0.85 ? "mfa.reset" : undefined;
  if (fix) t = o.step({ ts: t, type: "api_request", action: fix, resource: user }) + gap(r, 5, 1.3, 900);
  t = o.step({ ts: t, type: "tool_call", action: "ticket.update", resource }) + gap(r, 10, 1.2, 3600);
  if (r.chance(0.85)) o.step({ ts: t, type: "tool_call", action: "ticket.close", resource });
}

export const HELPDESK: Arch = {
  name: "it-helpdesk",
  read: "directory.search",
  draw(r, id, end, shared) {
    const night = r.chance(0.4);
    const p = baseProfile(r, id, this.name, end, [ZONES.london, ZONES.newyork, ZONES.manila, ZONES.sydney], shared, {
      scopes: [
        "ticket.*",
        "user.lookup",
        "user.unlock",
        "password.reset",
        "mfa.reset",
        "directory.search",
        "account.enable_legacy_auth",
        "user.set_admin",
        "mfa.disable",
      ],
      dormant: ["user.set_admin", "mfa.disable"],
      rare: "account.enable_legacy_auth",
      outOfScope: ["iam.attach_policy", "mail.forward_all", "user.delete", "vpn.issue_cert", "hr.read_salary"],
      discover: ["ticket.merge", "ticket.reassign", "ticket.export", "ticket.search", "ticket.escalate", "ticket.link", "ticket.tag", "ticket.bulk_update"],
      allHours: !night,
    });
    const d: Desk = { users: r.int(500, 5000), seq: 0, night };
    desks.set(p.id, d);
    const o = new Out(r, p);
    const windows: BenignWindow[] = [];
    const team = Number(id.slice(-1)) % 2;
    const vac = r.chance(0.7) ? shared.vacation[team] : undefined;
    const vd = vac !== undefined ? clock(p, vac).day : undefined;
    if (vd !== undefined) windows.push(dayWindow(p, "holiday_lull", vd, vd + 13, `team ${team} vacation: volume −90 %`));
    const busy = busyDays(r, p, r.int(0, 2), 2, 3);
    for (const [b, k] of busy) windows.push(dayWindow(p, "busy_day", b, b, `busy day ×${k.toFixed(1)}`));
    const lull = (day: number) => vd !== undefined && day >= vd && day <= vd + 13;
    // Three 8-hour shifts; a night-shift agent works only 22–06 (its normal).
    const shape = night ? (h: number) => (h >= 22 || h < 6 ? 1 : 0) : (h: number) => (h >= 6 && h < 14 ? 1 : h >= 14 && h < 22 ? 0.7 : 0.25);
    const rate = r.uniform(2, 8);
    hourly(
      r,
      p,
      rate,
      (h, dow) => shape(h) * (weekend(dow) ? 0.4 : 1),
      (day) => (lull(day) ? 0.1 : holiday(p, day) ? 0.3 : (busy.get(day) ?? 1)),
      (t) => ticket(r, p, o, t, t >= shared.rolloutAt),
    );
    // Handovers at the shift boundaries the agent works.
    for (const day of days(p))
      for (const h of night ? [22, 6] : SHIFTS) {
        if (lull(day) && r.chance(0.8)) continue;
        let t = atLocal(p, day, h) + r.int(-10, 10) * 60_000;
        t = o.step({ ts: t, type: "data_access", action: "ticket.list", resource: "queue:open", attributes: { records: r.int(5, 40) } });
        o.step({ ts: t + gap(r, 20, 1.3, 900), type: "tool_call", action: "ticket.handover", resource: `shift:${h}` });
      }
    windows.push({ type: "new_tool", start: shared.rolloutAt, end: shared.rolloutAt + 3 * DAY, detail: "rollout: ticket.ai_summary on every ticket" });
    return finish(
      r,
      p,
      o.evs,
      windows,
      `${p.zone.name}, ${night ? "night shift only" : "three shifts"}, ${rate.toFixed(1)} tickets/h, ${d.users} users${vd !== undefined ? ", team vacation" : ""}`,
    );
  },
  task(r, p, t) {
    const o = new Out(r, { ...p, errRate: 0 });
    ticket(r, p, o, t, false);
    return o.evs.map((g) => g.ev);
  },
  badSequence(r, p, t) {
    const d = desks.get(p.id)!;
    const resource = `ticket:${p.id.slice(-1)}-${(++d.seq).toString(36)}`;
    const user = `user:${r.int(1, d.users)}`;
    const ev = (dt: number, action: string, type: SimEvent["type"], res = resource): SimEvent => ({
      ts: t + dt,
      type,
      action,
      resource: res,
      outcome: "success",
    });
    // An MFA reset with no ticket read and no user looked up; the ticket closed before it is read.
    return {
      evs: [
        ev(0, "mfa.reset", "api_request", user),
        ev(12_000, "password.reset", "api_request", user),
        ev(30_000, "ticket.close", "tool_call"),
        ev(50_000, "ticket.read", "tool_call"),
      ],
      variant: "mfa+password reset with no ticket or lookup, close before read",
    };
  },
};
