/** Step 11: the verified bundle becomes a report a person can read (`kakunin audit report`). */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "./context.ts";
import { check, StepFailure } from "./runner.ts";

/** Where the demo leaves its report: outside the temp dir, so it survives the demo (git-ignored). */
export function reportPath(root: string): string {
  return join(root, "kakunin-demo-report.html");
}

export function writeReport(ctx: Ctx, exported: { file: string; rootFile: string }): Promise<string> {
  return ctx.run.step("Write the evidence report (kakunin audit report)", async () => {
    const out = reportPath(ctx.root);
    const args = [join(ctx.root, "cli/bin/kakunin.mjs"), "audit", "report", exported.file, "--root", exported.rootFile, "--out", out];
    const env = { ...process.env, KAKUNIN_CONFIG: join(ctx.root, ".kakunin-demo-no-config.json") };
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const p = spawn(process.execPath, args, { cwd: ctx.root, env, stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      p.stdout.on("data", (b: Buffer) => (text += b.toString()));
      p.stderr.on("data", (b: Buffer) => (text += b.toString()));
      const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
      p.on("error", reject);
      p.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, out: text });
      });
    });
    if (r.code !== 0) throw new StepFailure(`kakunin audit report exited ${r.code}:\n${r.out}`);
    const size = statSync(out).size;
    check(size > 0, "the report is empty");
    return {
      value: out,
      facts: [
        "verified first with the same checks as kakunin audit verify; written only because every check passed",
        `report written to ${out} (${Math.round(size / 1024)} KiB, self-contained HTML; add --pdf report.pdf for a PDF)`,
      ],
    };
  });
}
