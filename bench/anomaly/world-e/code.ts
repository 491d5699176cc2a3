import type { BenignWindow } from "../types.ts";
import {
  type Arch,
  atLocal,
  DAY,
  type Drawn,
  finish,
  type Gen,
  historyStart,
  HOUR,
  hourly,
  isWeekend,
  local,
  type Profile,
  session,
  type Step,
  ZONES,
} from "./model.ts";
import type { Rng } from "./random.ts";

const NEW_TOOLS = ["repo.search", "pr.comment", "ci.logs", "repo.blame", "pr.review", "ci.artifacts", "repo.diff", "deploy.status", "ci.retry", "pr.label"];

/**
 * code-assistant: a devops/code agent inside a bank. Sessions in office hours (reads, a PR, a CI run
 * and a burst of `ci.status` polls, sometimes `change.approve` → `deploy.request`); 2–3 incidents a
 * month at any hour (50–200 events); a new tool adopted about every week.
 */
export const CODE: Arch = {
  name: "code-assistant",
  draw(r, id, end): Drawn {
    const zone = r.pick([ZONES.newYork, ZONES.london, ZONES.mumbai, ZONES.singapore]);
    const start = historyStart(r, end);
    const repos = Array.from({ length: r.int(5, 20) }, (_, i) => `repo:${r.pick(["payments", "ledger", "risk", "kyc", "web", "infra", "etl"])}-${i}`);
    const services = ["svc:payments", "svc:ledger", "svc:risk", "svc:web", "svc:batch"];
    const rate = r.between(0.5, 3);
    const fail = r.between(0.01, 0.04);
    const benign: BenignWindow[] = [];
    // A new tool roughly every week; each used in ~15 % of sessions from its day on.
    const adopted: { tool: string; at: number }[] = [];
    const pool = r.shuffle(NEW_TOOLS);
    for (let t = start + r.between(3, 8) * DAY; t < end && pool.length > 0; t += r.between(6, 8) * DAY) {
      const tool = pool.pop()!;
      adopted.push({ tool, at: t });
      benign.push({ type: "new_tool", start: t, end: t + 2 * DAY, detail: `adopts ${tool}` });
    }
    // A new repository now and then (new_resource).
    const newRepos: { repo: string; at: number }[] = [];
    for (let k = r.int(1, 3); k > 0; k--) {
      const at = r.between(start + 5 * DAY, end - DAY);
      newRepos.push({ repo: `repo:new-${k}-${r.int(100, 999)}`, at });
      benign.push({ type: "new_resource", start: at, end: at + 2 * DAY, detail: "new repository" });
    }
    const repoAt = (rr: Rng, t: number) => {
      const fresh = newRepos.filter((x) => x.at <= t && t < x.at + 3 * DAY);
      return fresh.length > 0 && rr.chance(0.5) ? rr.pick(fresh).repo : repos[Math.min(repos.length - 1, Math.floor(repos.length ** rr.next()) - 1)]!;
    };
    const work = (rr: Rng, t: number, deploy: boolean, b?: Gen["benign"]): Gen[] => {
      const repo = repoAt(rr, t);
      const steps: Step[] = [];
      for (let k = rr.int(2, 10); k > 0; k--)
        steps.push({ action: "repo.read", type: "data_access", resource: repo, attributes: { bytes: Math.round(rr.logn(20_000, 1)) } });
      for (const a of adopted) if (a.at <= t && rr.chance(0.15)) steps.push({ action: a.tool, type: "tool_call", resource: repo });
      if (rr.chance(0.01)) steps.push({ action: "repo.clone_full", type: "data_access", resource: repo, attributes: { bytes: Math.round(rr.logn(5e7, 0.5)) } });
      const change = rr.chance(0.6);
      let out = session(rr, t, steps, 30, fail, b);
      let now = out.at(-1)!.ev.ts + rr.between(10, 120) * 1000;
      if (change) {
        out = out.concat(
          session(
            rr,
            now,
            [
              { action: "pr.create", type: "api_request", resource: repo },
              { action: "ci.run", type: "api_request", resource: repo },
            ],
            20,
            fail,
            b,
          ),
        );
        now = out.at(-1)!.ev.ts;
        // Polls at a near-fixed interval: a machine loop, not a person.
        const every = rr.between(10, 30) * 1000;
        for (let k = rr.int(20, 60); k > 0; k--) {
          now += every * rr.between(0.9, 1.1);
          out.push({
            ev: { ts: Math.round(now), type: "api_request", action: "ci.status", resource: repo, outcome: "success", latencyMs: Math.round(rr.logn(120, 0.3)) },
            benign: b,
          });
        }
      }
      if (deploy || (change && rr.chance(0.12))) {
        const svc = rr.pick(services);
        out = out.concat(
          session(
            rr,
            now + rr.between(30, 600) * 1000,
            [
              { action: "change.approve", type: "tool_call", resource: svc },
              { action: "deploy.request", type: "api_request", resource: svc },
            ],
            60,
            fail,
            b,
          ),
        );
      }
      return out;
    };
    const shape = (t: number): number => {
      const l = local(zone, t);
      if (isWeekend(l) || l.h < 9 || l.h >= 19) return l.h >= 8 && l.h < 22 && !isWeekend(l) ? rate * 0.05 : 0;
      return rate * (l.date === zone.holiday ? 0.1 : 1);
    };
    const gens = hourly(r, start, end, shape, (t) => work(r, t, false, local(zone, t).date === zone.holiday ? "holiday_lull" : undefined));
    // Incidents: 2–3 a month at any hour, weekends included: 50–200 events of reading, polling and deploying.
    const incidents = Math.max(1, Math.round(((end - start) / (30 * DAY)) * r.between(2, 3)));
    for (let k = 0; k < incidents; k++) {
      const t0 = r.between(start + DAY, end - 6 * HOUR);
      const evs: Gen[] = [];
      let t = t0;
      while (evs.length < r.int(50, 200)) {
        const g = work(r, t, r.chance(0.3), "busy_day");
        evs.push(...g);
        t = g.at(-1)!.ev.ts + r.between(1, 10) * 60_000;
      }
      gens.push(...evs);
      benign.push({ type: "busy_day", start: t0, end: t, detail: `incident, ${evs.length} events` });
    }
    if (zone.holiday)
      benign.push({ type: "holiday_lull", start: atLocal(zone, zone.holiday, 0), end: atLocal(zone, zone.holiday, 24), detail: `holiday ${zone.holiday}` });
    for (const a of adopted) for (const g of gens) if (g.ev.action === a.tool && g.ev.ts < a.at + 2 * DAY && !g.benign) g.benign = "new_tool";
    for (const n of newRepos) for (const g of gens) if (g.ev.resource === n.repo && g.ev.ts < n.at + 2 * DAY && !g.benign) g.benign = "new_resource";
    const p: Profile = {
      id,
      zone,
      start,
      end,
      scopes: ["repo.*", "pr.*", "ci.*", "deploy.*", "change.*"],
      dormant: ["deploy.force", "repo.protection_remove"],
      foreign: ["vault.read", "iam.role_assume", "wire.send"],
      unused: ["repo.secrets_list", "ci.env_dump", "deploy.rollback_all", "pr.merge_admin", "change.bulk_approve", "repo.mirror", "ci.runner_register"],
      top: [
        { action: "ci.status", type: "api_request", resource: (rr) => rr.pick(repos) },
        { action: "repo.read", type: "data_access", resource: (rr) => rr.pick(repos) },
        { action: "ci.run", type: "api_request", resource: (rr) => rr.pick(repos) },
      ],
      volume: { action: "repo.read", type: "data_access", key: "bytes", median: 20_000 },
      rare: { action: "repo.clone_full", type: "data_access" },
      task: (rr, t) => work(rr, t, false),
      impossible: (rr, t) => {
        const svc = rr.pick(services);
        return {
          gens: session(rr, t, [{ action: "deploy.request", type: "api_request", resource: svc }], 5, 0),
          what: `deploy.request of ${svc} with no change.approve`,
        };
      },
      fail,
    };
    return {
      p,
      normal: finish(r, p, gens, benign),
      benign,
      profile: `${zone.name}, ${repos.length} repos, ${rate.toFixed(1)} sessions/h, ${adopted.length} tools adopted, ${incidents} incidents`,
    };
  },
};
