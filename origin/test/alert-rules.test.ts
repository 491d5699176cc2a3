/**
 * `deploy/prometheus/kakunin-alerts.rules.json` is the alert table of docs/operations.md as a
 * Prometheus rule file (JSON is YAML, so Prometheus loads it as it is). Two ways it could rot
 * silently: drift from the documented table the runbooks are written against, and an expression
 * naming a metric nothing exports, an alert that can never fire.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

const ROOT = join(import.meta.dirname, "..", "..");
interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: Record<string, string>;
}
const rules = (JSON.parse(readFileSync(join(ROOT, "deploy/prometheus/kakunin-alerts.rules.json"), "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

/** Every alert row of the docs' tables: name | `expr` | for | severity (and a note). */
function documented(): { alert: string; expr: string; for: string; severity: string }[] {
  const rows: { alert: string; expr: string; for: string; severity: string }[] = [];
  for (const line of readFileSync(join(ROOT, "docs/operations.md"), "utf8").split("\n")) {
    const m = /^\| ([A-Z][A-Za-z]+) \| `(.+)` \| (\d+[smh]) \| (page|ticket)/.exec(line);
    if (m) rows.push({ alert: m[1]!, expr: m[2]!, for: m[3]!, severity: m[4]! });
  }
  return rows;
}

describe("the shipped Prometheus alert rules", () => {
  let o: TestOrigin;
  let exported = "";
  beforeAll(async () => {
    // PostgreSQL where there is one (CI always): the connection-pool gauges exist only with a pool.
    o = await startTestOrigin(dbKinds().at(-1)!);
    const res = await o.request("GET", "/metrics", { key: null });
    expect(res.status).toBe(200);
    exported = await res.text();
  });
  afterAll(async () => {
    await o.close();
  });

  it("are exactly the alert table of docs/operations.md", () => {
    const docs = documented();
    expect(docs.length).toBeGreaterThan(15);
    expect(rules.map((r) => ({ alert: r.alert, expr: r.expr, for: r.for, severity: r.labels.severity }))).toEqual(docs);
  });

  it("name only metrics the origin or the edge exports", () => {
    const edgeSource = readFileSync(join(ROOT, "workers/src/routes/v1_admin_metrics.ts"), "utf8");
    const missing: string[] = [];
    for (const r of rules) {
      for (const [name] of r.expr.matchAll(/kakunin_[a-z0-9_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, "");
        const known = base.startsWith("kakunin_edge_") ? edgeSource.includes(`"${base}"`) : new RegExp(`^# HELP ${base} `, "m").test(exported);
        if (!known) missing.push(`${r.alert}: ${base}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
