import { loadTable, ratio } from "../verify/report.ts";
import type { Measured } from "../verify/measure.ts";
import type { PublishRate } from "./publish-rate.ts";

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : Number.NaN;
};
const cpu = (m: Measured, prefix: string): number => [...m.cpuMsPerReq].find(([k]) => k.startsWith(prefix))?.[1] ?? Number.NaN;
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "–");

/** One round is one Measured per target, in the order run.ts lists them. */
export interface Round {
  results: Measured[];
  load: number[];
}

/**
 * Medians over the rounds, and the goal ratios computed within each round (numerator and
 * baseline measured seconds apart) and then their median.
 */
export function summary(rounds: Round[], pub: PublishRate[]): string {
  const labels = rounds[0]!.results.map((m) => m.label);
  const col = (i: number) => rounds.map((r) => r.results[i]!);
  const lines: string[] = [];
  lines.push("median over rounds (req/s, latency) and CPU ms per request from /proc:");
  lines.push(
    loadTable(
      labels.map((label, i) => ({
        label,
        concurrency: col(i)[0]!.concurrency,
        ok: col(i).reduce((n, m) => n + m.ok, 0),
        errors: col(i).reduce((n, m) => n + m.errors, 0),
        elapsedMs: 0,
        rps: median(col(i).map((m) => m.rps)),
        p50: median(col(i).map((m) => m.p50)),
        p99: median(col(i).map((m) => m.p99)),
      })),
    ),
  );
  lines.push("\n| target | runtime workerd (Worker+KV+DO) ms/req | proxy workerd ms/req | load generator ms/req |\n|---|---|---|---|");
  labels.forEach((label, i) =>
    lines.push(
      `| ${label} | ${f2(median(col(i).map((m) => cpu(m, "workerd runtime"))))} | ${f2(median(col(i).map((m) => cpu(m, "workerd proxy"))))} | ${f2(median(col(i).map((m) => cpu(m, "load generator"))))} |`,
    ),
  );
  const goal = (name: string, num: number, den: number, target: string): string => {
    const per = rounds.map((r) => r.results[num]!.rps / r.results[den]!.rps);
    return `| ${name} | ${per.map((x) => `${x.toFixed(2)}×`).join(" ")} | **${median(per).toFixed(2)}×** | ${target} |`;
  };
  lines.push("\n| ratio (same round) | per round | median | goal |\n|---|---|---|---|");
  lines.push(goal("verify random-of-10k / healthz", 1, 0, "≥ 0.9×"));
  lines.push(goal("verify hot set / healthz", 2, 0, "≥ 0.9×"));
  lines.push(goal("edge OCSP POST / openssl ocsp", 3, 5, "≥ 2×"));
  lines.push(goal("edge OCSP GET / openssl ocsp", 4, 5, "≥ 2×"));
  const rt = (i: number) => median(col(i).map((m) => cpu(m, "workerd runtime")));
  lines.push(
    `\nedge CPU per verify (runtime workerd, includes the local KV/DO simulators): random ${f2(rt(1))} ms, hot ${f2(rt(2))} ms; /healthz ${f2(rt(0))} ms, so verify's own share is ${f2(rt(1) - rt(0))} / ${f2(rt(2) - rt(0))} ms (goal < 0.5 ms)`,
  );
  lines.push(
    `load avg (1 min) during the rounds: ${rounds
      .flatMap((r) => r.load)
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
  const byLabel = new Map<string, PublishRate[]>();
  for (const p of pub) byLabel.set(p.label, [...(byLabel.get(p.label) ?? []), p]);
  const rate = (ps: PublishRate[]) => ps.reduce((n, p) => n + p.records, 0) / ps.reduce((s, p) => s + p.seconds, 0);
  const [many, one] = [...byLabel.values()];
  const cpuPer = (ps: PublishRate[]) => median(ps.map((p) => p.cpuMsPerRecord));
  lines.push(
    `\nledger publish → KV: ${[...byLabel].map(([l, ps]) => `${l} ${rate(ps).toFixed(0)} records/s (edge CPU ${f2(cpuPer(ps))} ms/record)`).join(", ")}; ratio ${many && one ? ratio(rate(many), rate(one)) : "–"}`,
  );
  return lines.join("\n");
}
