import type { EventType } from "../types.ts";
import { snap, weekday, type Arch } from "./arch.ts";
import { DAY, HOUR, MIN, Seq, money, poolPick, type Ev, type Profile } from "./model.ts";
import type { Rand } from "./random.ts";

/** Read-like names are data access, the rest tool calls: enough for the event type to carry meaning. */
const typeOf = (action: string): EventType => (/\.(get|read|query|history|fetch|lookup|search)/.test(action) ? "data_access" : "tool_call");

/** An optional tool of the agent's working set (adopted tools included once adopted). */
function optional(r: Rand, p: Profile, t: number): string {
  const adopted = p.newTools.filter((n) => n.at <= t).map((n) => n.name);
  const all = [...p.tools, ...adopted];
  // Adopted tools are used as often as the most popular one: a new tool that is really taken up.
  return adopted.length > 0 && r.chance(0.3) ? r.pick(adopted) : all[Math.min(all.length - 1, Math.floor(r.pareto(1, 1.2)) - 1)]!;
}

let seqNo = 0;
/** Restarts the object ids, so that building the world twice in one process gives the same events. */
export function resetIds(): void {
  seqNo = 0;
}
/** Fresh object ids (orders, POs, alerts): unique across the world so no two agents share one by accident. */
const fresh = (prefix: string): string => `${prefix}:${(100000 + seqNo++).toString(36)}`;

export const SUPPORT: Arch = {
  name: "support-refunds",
  scopes: [
    "orders.*",
    "policy.*",
    "refunds.*",
    "tickets.*",
    "customers.*",
    "payments.status",
    "shipping.*",
    "notes.*",
    "kb.*",
    "translate.*",
    "fraud.*",
    "vouchers.*",
  ],
  unused: [
    { action: "refunds.bulk_issue", type: "transaction" },
    { action: "customers.export", type: "data_access" },
  ],
  rare: { action: "customers.update_email", type: "tool_call" },
  outOfScope: ["iam.grant_role", "payouts.transfer", "db.query", "admin.users.delete", "billing.update_bank", "payments.capture", "payments.refund_direct"],
  discover: [
    "orders.cancel",
    "orders.modify_address",
    "refunds.reverse",
    "tickets.merge",
    "customers.merge",
    "policy.override",
    "shipping.reroute",
    "kb.edit",
    "vouchers.revoke",
    "notes.delete",
  ],
  optional: [
    "payments.status",
    "shipping.track",
    "notes.add",
    "tickets.tag",
    "orders.history",
    "kb.search",
    "translate.text",
    "fraud.check",
    "vouchers.issue",
    "refunds.status",
    "customers.get_preferences",
    "shipping.label",
  ],
  optionalCount: [2, 9],
  adopt: "tickets.summarize",
  newStep: { action: "fraud.score", type: "api_request" },
  replace: { from: "policy.check", to: "policy.check_v2" },
  amountAction: "refunds.issue",
  hot: { action: "orders.lookup", type: "data_access" },
  read: { action: "customers.get", type: "data_access", key: "records", base: 2, prefix: "cust" },
  common: ["orders.lookup", "policy.check", "refunds.issue", "tickets.reply", "tickets.close"],
  regions: [
    { region: "global", tz: 0, currency: "EUR" },
    { region: "global", tz: 0, currency: "USD" },
    { region: "global", tz: 0, currency: "GBP" },
  ],
  // Follow the sun: APAC, EMEA and Americas peaks in UTC over a 24×5 floor; weekends nearly silent.
  weight(hour, dow) {
    if (!weekday(dow)) return 0.03;
    return 0.15 + 0.85 * Math.max(...[3, 10, 17].map((c) => Math.exp(-(Math.min(Math.abs(hour - c), 24 - Math.abs(hour - c)) ** 2) / (2 * 2.2 * 2.2))));
  },
  draw(r, p) {
    p.rate = r.uniform(2.5, 6);
    p.amountMedian = r.uniform(15, 90);
    p.pool = Array.from({ length: r.int(3, 6) }, (_, i) => ({ id: `store:${p.id}-${i}`, since: 0 }));
  },
  task(r, p, t) {
    const s = new Seq(r, p, t);
    const order = fresh("order");
    s.step("data_access", "orders.lookup", { resource: order, attributes: { records: 1 } });
    if (r.chance(0.3)) s.step("data_access", "customers.get", { resource: `cust:${r.int(1, 40000)}`, attributes: { records: r.int(1, 3) } });
    for (let k = r.int(0, 2); k > 0; k--) {
      const a = optional(r, p, s.t);
      s.step(typeOf(a), a, { resource: order });
    }
    if (r.chance(0.6)) s.step("tool_call", "policy.check", { resource: poolPick(r, p, s.t) });
    const x = r.next();
    if (x < 0.55)
      s.step("transaction", "refunds.issue", { resource: order, amount: money(r.lognormal(p.amountMedian, 0.7), p.currency), currency: p.currency });
    else if (x < 0.8) s.step("tool_call", "tickets.escalate", { resource: order });
    else s.step("message", "tickets.reply", { resource: order });
    if (r.chance(0.01)) s.step("tool_call", "customers.update_email", { resource: `cust:${r.int(1, 40000)}` });
    s.step("tool_call", "tickets.close", { resource: order });
    return s.evs;
  },
  badOrder(r, p, t) {
    // A refund on an order that was never looked up, then the lookup afterwards.
    const s = new Seq(r, p, t);
    const order = fresh("order");
    s.step("transaction", "refunds.issue", {
      resource: order,
      amount: money(r.lognormal(p.amountMedian, 0.5), p.currency),
      currency: p.currency,
      outcome: "success",
    });
    s.step("tool_call", "tickets.close", { resource: order, outcome: "success" });
    s.step("data_access", "orders.lookup", { resource: order, attributes: { records: 1 }, outcome: "success" });
    return { variant: "refund before lookup", evs: s.evs };
  },
};

export const PROCUREMENT: Arch = {
  name: "procurement",
  scopes: ["po.*", "goods.*", "invoice.*", "vendors.*", "budget.*", "catalog.*", "docs.*", "compliance.*", "payments.batch_pay"],
  unused: [
    { action: "vendors.update_bank", type: "tool_call" },
    { action: "payments.batch_pay", type: "transaction" },
  ],
  rare: { action: "budget.override", type: "tool_call" },
  outOfScope: ["payments.wire_transfer", "iam.grant_role", "hr.salaries.read", "erp.admin.export", "ledger.post_journal", "payments.cancel"],
  discover: ["po.cancel", "po.amend", "goods.return", "invoice.dispute", "vendors.onboard", "catalog.import", "budget.transfer", "docs.sign", "invoice.split"],
  optional: ["budget.check", "catalog.search", "docs.attach", "vendors.rating", "docs.read", "catalog.price_history", "budget.forecast"],
  optionalCount: [2, 5],
  adopt: "catalog.compare",
  newStep: { action: "compliance.check", type: "api_request" },
  replace: { from: "po.send", to: "po.send_edi" },
  amountAction: "invoice.pay",
  hot: { action: "po.create", type: "tool_call" },
  read: { action: "vendors.lookup", type: "data_access", key: "records", base: 5, prefix: "vendor" },
  common: ["po.create", "po.request_approval", "po.approve", "po.send", "invoice.pay", "vendors.lookup"],
  regions: [
    { region: "eu", tz: 1, currency: "EUR" },
    { region: "jp", tz: 9, currency: "JPY" },
  ],
  monthEnd: true,
  weight(hour, dow) {
    if (!weekday(dow)) return 0;
    if (hour >= 12 && hour < 13) return 0.3;
    if (hour >= 8 && hour < 18) return 1;
    return hour === 7 || hour === 18 ? 0.15 : 0;
  },
  draw(r, p) {
    p.rate = r.uniform(0.8, 2.2);
    const floor = r.uniform(150, 1500) * (p.currency === "JPY" ? 150 : 1);
    // Median of a Pareto(xm, 1.5) is xm·2^(1/1.5).
    p.amountMedian = floor * Math.pow(2, 1 / 1.5);
    p.pool = Array.from({ length: r.int(20, 60) }, (_, i) => ({ id: `vendor:${p.id}-${i}`, since: 0 }));
  },
  task(r, p, t) {
    const s = new Seq(r, p, t);
    const po = fresh("po");
    const vendor = poolPick(r, p, t);
    if (r.chance(0.7)) s.step("data_access", "vendors.lookup", { resource: vendor, attributes: { records: r.int(1, 10) } });
    if (r.chance(0.5)) {
      const a = optional(r, p, s.t);
      s.step(typeOf(a), a, { resource: po });
    }
    s.step("tool_call", "po.create", { resource: po });
    if (r.chance(0.01)) s.step("tool_call", "budget.override", { resource: po });
    s.step("tool_call", "po.request_approval", { resource: po });
    // The lifecycle spreads over days and only moves in office hours.
    s.t = snap(PROCUREMENT, p, s.t + r.uniform(0.2, 6) * HOUR, r);
    s.step("tool_call", "po.approve", { resource: po });
    s.step("message", "po.send", { resource: po, attributes: { vendor } });
    s.t = snap(PROCUREMENT, p, s.t + r.uniform(1, 5) * DAY, r);
    s.step("tool_call", "goods.receive", { resource: po });
    s.t = snap(PROCUREMENT, p, s.t + r.uniform(1, 48) * HOUR, r);
    s.step("transaction", "invoice.pay", {
      resource: po,
      amount: money(r.pareto(p.amountMedian / Math.pow(2, 1 / 1.5), 1.5), p.currency),
      currency: p.currency,
    });
    return s.evs;
  },
  badOrder(r, p, t) {
    const s = new Seq(r, p, t);
    const po = fresh("po");
    s.step("tool_call", "po.create", { resource: po, outcome: "success" });
    if (r.chance(0.5)) {
      // Paid before anyone approved it.
      s.step("transaction", "invoice.pay", {
        resource: po,
        amount: money(r.pareto(p.amountMedian / 1.6, 1.5), p.currency),
        currency: p.currency,
        outcome: "success",
      });
      s.step("tool_call", "po.approve", { resource: po, outcome: "success" });
      return { variant: "pay before approve", evs: s.evs };
    }
    s.step("message", "po.send", { resource: po, outcome: "success" });
    s.step("tool_call", "goods.receive", { resource: po, outcome: "success" });
    return { variant: "send and receive without approval", evs: s.evs };
  },
};

/** The alert lifecycle (open → evidence → close or SAR), shared by day screens and the batch's hits. */
function alertFlow(r: Rand, s: Seq): void {
  const alert = fresh("alert");
  s.step("tool_call", "alerts.open", { resource: alert });
  for (let k = r.int(1, 3); k > 0; k--) s.step("data_access", "evidence.gather", { resource: alert, attributes: { records: r.int(1, 5) } }, 5);
  if (r.chance(0.15)) s.step("tool_call", "sar.file", { resource: alert }, 5);
  else s.step("tool_call", "alerts.close", { resource: alert }, 5);
}

export const AML: Arch = {
  name: "aml-screening",
  scopes: ["screening.*", "lists.*", "alerts.*", "evidence.*", "sar.*", "kyc.*", "cases.*", "adverse_media.*", "registry.*", "pep.*", "watchlists.export"],
  unused: [
    { action: "watchlists.export", type: "data_access" },
    { action: "alerts.bulk_close", type: "tool_call" },
  ],
  rare: { action: "alerts.suppress", type: "tool_call" },
  outOfScope: ["accounts.freeze", "payments.release", "iam.grant_role", "crm.customers.update", "sanctions_admin.edit_list", "watchlists.import"],
  discover: [
    "lists.diff",
    "alerts.reassign",
    "evidence.export",
    "sar.amend",
    "kyc.refresh",
    "cases.merge",
    "registry.bulk_lookup",
    "screening.rescreen",
    "pep.override",
  ],
  optional: ["kyc.read", "cases.note", "adverse_media.search", "registry.lookup", "pep.check", "cases.read"],
  optionalCount: [2, 5],
  adopt: "adverse_media.deep_search",
  newStep: { action: "screening.log_decision", type: "tool_call" },
  replace: { from: "lists.lookup", to: "lists.lookup_v2" },
  hot: { action: "screening.screen_party", type: "api_request" },
  read: { action: "lists.lookup", type: "data_access", key: "records", base: 8, prefix: "list" },
  common: ["screening.screen_party", "lists.lookup", "alerts.open", "evidence.gather", "alerts.close"],
  regions: [
    { region: "eu", tz: 0, currency: "EUR" },
    { region: "eu", tz: 1, currency: "EUR" },
    { region: "us", tz: -5, currency: "USD" },
  ],
  weight(hour, dow) {
    return weekday(dow) && hour >= 8 && hour < 18 ? 1 : 0;
  },
  draw(r, p) {
    p.rate = r.uniform(0.8, 2.5);
    p.batchHour = r.int(0, 4);
    p.pool = ["ofac", "eu", "un", "uk-hmt", "pep", "internal", "adverse"].slice(0, r.int(4, 7)).map((l) => ({ id: `list:${l}`, since: 0 }));
    // Each agent's nightly volume centres somewhere in 200–2,000 screenings.
    p.amountMedian = r.uniform(300, 1500);
  },
  task(r, p, t) {
    const s = new Seq(r, p, t);
    s.step("api_request", "screening.screen_party", { resource: fresh("party"), attributes: { records: 1 } });
    if (r.chance(0.35))
      s.step("data_access", "lists.lookup", { resource: poolPick(r, p, s.t), attributes: { records: Math.max(1, Math.round(r.lognormal(8, 0.6))) } });
    if (r.chance(0.25)) {
      const a = optional(r, p, s.t);
      s.step(typeOf(a), a, {});
    }
    if (r.chance(0.06)) alertFlow(r, s);
    if (r.chance(0.01)) s.step("tool_call", "alerts.suppress", { resource: fresh("alert") });
    return s.evs;
  },
  daily(r, p, midnight) {
    // The nightly batch: a fixed local hour ±20 min, every night, in chunks of 10–50 screenings.
    const total = Math.round(Math.min(2000, Math.max(200, r.lognormal(p.amountMedian, 0.3))));
    let t = midnight + p.batchHour * HOUR + r.uniform(-20, 20) * MIN;
    const evs: Ev[] = [];
    let done = 0;
    for (let k = 0; done < total; k++) {
      const chunk = Math.min(total - done, r.int(10, 50));
      done += chunk;
      evs.push({
        ts: Math.round(t),
        type: "api_request",
        action: "screening.screen_party",
        resource: `batch:${p.id}:${Math.floor(midnight / DAY)}:${k}`,
        outcome: r.chance(0.005) ? "error" : "success",
        latencyMs: Math.round(r.lognormal(900, 0.4)),
        attributes: { records: chunk },
      });
      t += r.uniform(5, 40) * 1000;
    }
    // Batch hits are worked the next office morning.
    for (let k = r.poisson(total * 0.002); k > 0; k--) {
      const s = new Seq(r, p, snap(AML, p, t + r.uniform(0, 6) * HOUR, r));
      alertFlow(r, s);
      evs.push(...s.evs);
    }
    return evs;
  },
  badOrder(r, p, t) {
    const s = new Seq(r, p, t);
    const alert = fresh("alert");
    s.step("tool_call", "alerts.open", { resource: alert, outcome: "success" });
    if (r.chance(0.5)) {
      s.step("tool_call", "alerts.close", { resource: alert, outcome: "success" });
      s.step("data_access", "evidence.gather", { resource: alert, attributes: { records: 2 }, outcome: "success" });
      return { variant: "close before evidence", evs: s.evs };
    }
    s.step("tool_call", "alerts.close", { resource: alert, outcome: "success" });
    return { variant: "open then close, no evidence", evs: s.evs };
  },
};

const DEVOPS_POOL = [
  "k8s.get_pods",
  "k8s.describe",
  "k8s.logs",
  "k8s.scale",
  "k8s.apply",
  "k8s.rollout_status",
  "traces.query",
  "git.clone",
  "git.push",
  "git.tag",
  "pr.create",
  "pr.merge",
  "pr.review",
  "tickets.update",
  "chat.post",
  "dns.lookup",
  "cdn.purge",
  "cache.flush",
  "db.migrate",
  "db.query_readonly",
  "flags.toggle",
  "flags.get",
  "artifacts.upload",
  "artifacts.fetch",
  "terraform.plan",
  "terraform.apply",
  "vault.read",
  "cert.renew",
  "queue.inspect",
  "queue.drain",
  "lb.drain",
  "lb.status",
  "backups.verify",
  "cost.report",
  "oncall.page",
  "status.update",
  "sbom.generate",
  "lint.run",
  "deps.update",
  "images.scan",
  "images.prune",
];

export const DEVOPS: Arch = {
  name: "devops",
  scopes: [
    "ci.*",
    "deploy.*",
    "monitor.*",
    "alerts.*",
    "svc.*",
    "incident.*",
    "k8s.*",
    "logs.*",
    "metrics.*",
    "traces.*",
    "git.*",
    "pr.*",
    "tickets.*",
    "chat.*",
    "dns.*",
    "cdn.*",
    "cache.*",
    "db.*",
    "flags.*",
    "artifacts.*",
    "terraform.*",
    "vault.*",
    "cert.*",
    "queue.*",
    "lb.*",
    "backups.*",
    "cost.*",
    "oncall.*",
    "status.*",
    "sbom.*",
    "lint.*",
    "deps.*",
    "images.*",
    "security.*",
    "secrets.export",
  ],
  unused: [
    { action: "secrets.export", type: "data_access" },
    { action: "db.snapshot_download", type: "data_access" },
  ],
  rare: { action: "db.console", type: "tool_call" },
  outOfScope: ["iam.create_user", "billing.update_card", "customers.export", "hr.records.read", "payments.refund", "org.delete_project", "secrets.rotate_all"],
  // Filled per agent from the pool's tools nobody of this agent uses (see world.ts): the pool is shared.
  discover: [],
  optional: DEVOPS_POOL,
  optionalCount: [14, 26],
  adopt: "",
  newStep: { action: "security.scan", type: "tool_call" },
  replace: { from: "deploy.prod", to: "deploy.prod_v2" },
  hot: { action: "logs.query", type: "data_access" },
  read: { action: "logs.query", type: "data_access", key: "bytes", base: 200_000, prefix: "logs" },
  common: ["ci.build", "ci.test", "deploy.staging", "deploy.prod", "logs.query", "metrics.query"],
  regions: [-8, -5, 0, 1, 3, 8, 9].map((tz) => ({ region: tz <= -5 ? "us" : tz >= 8 ? "jp" : "eu", tz, currency: "USD" })),
  weight(hour, dow) {
    if (!weekday(dow)) return hour >= 10 && hour < 18 ? 0.05 : 0.01;
    if (hour >= 9 && hour < 19) return 1;
    return hour >= 19 && hour < 23 ? 0.15 : 0.02;
  },
  draw(r, p) {
    p.rate = r.uniform(0.6, 1.6);
    p.pool = Array.from({ length: r.int(5, 15) }, (_, i) => ({ id: `svc:${p.id}-${i}`, since: 0 }));
  },
  task(r, p, t) {
    const s = new Seq(r, p, t);
    const svc = poolPick(r, p, t);
    if (r.chance(0.6)) {
      s.step("tool_call", "ci.build", { resource: svc, latencyMs: Math.round(r.lognormal(120_000, 0.5)) });
      const test = s.step("tool_call", "ci.test", {
        resource: svc,
        latencyMs: Math.round(r.lognormal(200_000, 0.5)),
        outcome: r.chance(0.08) ? "error" : "success",
      });
      if (test.outcome !== "success") return s.evs;
      s.step("tool_call", "deploy.staging", { resource: svc });
      s.step("tool_call", "deploy.prod", { resource: svc }, 3);
      s.step("api_request", "monitor.verify", { resource: svc });
      return s.evs;
    }
    for (let k = r.int(2, 8); k > 0; k--) {
      const a = optional(r, p, s.t);
      s.step(typeOf(a), a, { resource: svc });
    }
    if (r.chance(0.3)) s.step("data_access", "logs.query", { resource: svc, attributes: { bytes: Math.round(r.lognormal(200_000, 0.8)) } });
    if (r.chance(0.2)) s.step("data_access", "metrics.query", { resource: svc });
    if (r.chance(0.01)) s.step("tool_call", "db.console", { resource: svc });
    return s.evs;
  },
  daily(r, p, midnight) {
    // Incidents at any hour, a few a month: night work that is legitimate.
    if (!r.chance(r.uniform(2, 5) / 30)) return [];
    const s = new Seq(r, p, midnight + r.uniform(0, 24) * HOUR);
    const svc = poolPick(r, p, s.t);
    s.step("tool_call", "alerts.ack", { resource: svc });
    for (let k = r.int(2, 6); k > 0; k--) s.step("data_access", "logs.query", { resource: svc, attributes: { bytes: Math.round(r.lognormal(200_000, 0.8)) } });
    for (let k = r.int(1, 3); k > 0; k--) s.step("data_access", "metrics.query", { resource: svc });
    s.step("tool_call", r.chance(0.5) ? "svc.restart" : "deploy.rollback", { resource: svc });
    s.step("message", "incident.note", { resource: svc });
    return s.evs;
  },
  badOrder(r, p, t) {
    const s = new Seq(r, p, t);
    const svc = poolPick(r, p, t);
    s.step("tool_call", "ci.build", { resource: svc, outcome: "success" });
    s.step("tool_call", "deploy.prod", { resource: svc, outcome: "success" });
    if (r.chance(0.5)) s.step("tool_call", "ci.test", { resource: svc, outcome: "success" });
    return { variant: "deploy_prod before test", evs: s.evs };
  },
};

export const RESEARCH: Arch = {
  name: "research-assistant",
  scopes: ["web.*", "docs.read", "docs.search", "sheets.*", "notes.*", "llm.*", "citations.*", "pdf.*", "translate.*", "drive.share_public", "mail.send"],
  unused: [
    { action: "drive.share_public", type: "tool_call" },
    { action: "mail.send", type: "message" },
  ],
  rare: { action: "web.download_dataset", type: "data_access" },
  outOfScope: ["drive.delete", "iam.grant_role", "payments.create", "github.push", "crm.export", "shell.exec", "docs.delete"],
  discover: [
    "web.screenshot",
    "web.crawl",
    "sheets.delete",
    "notes.export",
    "llm.finetune",
    "pdf.merge",
    "citations.export",
    "sheets.share",
    "translate.batch",
  ],
  optional: ["llm.summarize", "citations.format", "pdf.extract", "translate.text", "docs.search", "notes.write"],
  optionalCount: [2, 5],
  adopt: "pdf.ocr",
  newStep: { action: "citations.check", type: "api_request" },
  replace: { from: "sheets.write", to: "sheets.append_rows" },
  hot: { action: "web.search", type: "api_request" },
  read: { action: "docs.read", type: "data_access", key: "bytes", base: 300_000, prefix: "doc" },
  common: ["web.search", "web.fetch", "docs.read", "sheets.write"],
  regions: [-5, 0, 1, 9].map((tz) => ({ region: tz < 0 ? "us" : tz >= 8 ? "jp" : "eu", tz, currency: "USD" })),
  weight(hour, dow) {
    if (!weekday(dow)) return hour >= 10 && hour < 18 ? 0.03 : 0;
    if (hour >= 9 && hour < 18) return 1;
    return hour >= 19 && hour < 22 ? 0.25 : 0;
  },
  draw(r, p) {
    p.rate = r.uniform(0.15, 0.4);
    p.gapXm = r.uniform(3, 10);
    p.gapAlpha = r.uniform(1.2, 1.5);
    p.pool = Array.from({ length: r.int(50, 200) }, (_, i) => ({ id: `doc:${p.id}-${i}`, since: 0 }));
  },
  task(r, p, t) {
    const s = new Seq(r, p, t);
    const sheet = `sheet:${p.id}-${r.int(1, 5)}`;
    for (let n = r.int(10, 80); n > 0; n--) {
      const x = r.next();
      if (x < 0.3) s.step("api_request", "web.search", {});
      else if (x < 0.6)
        s.step("data_access", "web.fetch", {
          resource: `url:site${r.int(1, 400)}.example/${r.int(1, 99999)}`,
          attributes: { bytes: Math.round(r.lognormal(60_000, 1)) },
        });
      else if (x < 0.75) s.step("data_access", "docs.read", { resource: poolPick(r, p, s.t), attributes: { bytes: Math.round(r.lognormal(300_000, 0.8)) } });
      else if (x < 0.85) s.step("tool_call", "sheets.write", { resource: sheet });
      else if (x < 0.99) {
        const a = optional(r, p, s.t);
        s.step(typeOf(a), a, {});
      } else
        s.step("data_access", "web.download_dataset", {
          resource: `url:data${r.int(1, 50)}.example/set`,
          attributes: { bytes: Math.round(r.lognormal(2_000_000, 0.8)) },
        });
    }
    return s.evs;
  },
};

export const ARCHETYPES: Arch[] = [SUPPORT, PROCUREMENT, AML, DEVOPS, RESEARCH];
