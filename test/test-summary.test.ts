/**
 * The closing line CI reads (scripts/test-summary.mjs). A test file that failed outside its tests
 * (a beforeAll that threw: a service that did not start) reported its tests as skipped, and the
 * line said "0 failed" for a failed run. Real vitest reports, made here from throw-away files.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs vitest on `files` in a throw-away root; returns the closing line for that report. */
async function closingLine(files: Record<string, string>, lintFailed = 0): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-summary-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const report = join(dir, "report.json");
  const code = await run(join(ROOT, "node_modules/.bin/vitest"), ["run", "--root", dir, "--reporter=json", `--outputFile.json=${report}`], { cwd: dir }).then(
    () => 0,
    (e: { code?: number }) => e.code ?? 1,
  );
  const { stdout } = await run(process.execPath, [join(ROOT, "scripts/test-summary.mjs"), report, String(lintFailed), String(code)]);
  return stdout.trim();
}

const passing = 'import { it, expect } from "vitest";\nit("passes", () => expect(1).toBe(1));\n';

describe("the closing line", () => {
  it("counts a test file whose beforeAll threw as a failure, not only as skipped tests", async () => {
    const broken =
      'import { beforeAll, it } from "vitest";\nbeforeAll(() => { throw new Error("service did not start"); });\nit("a", () => {});\nit("b", () => {});\n';
    expect(await closingLine({ "broken.test.ts": broken, "ok.test.ts": passing })).toBe("1 passed, 1 failed, 2 skipped");
  }, 60_000);

  it("counts a run vitest failed for an unhandled error (a timer that throws after its test), which its report does not", async () => {
    const stray =
      'import { it } from "vitest";\nit("leaves a timer", () => { setTimeout(() => { throw new Error("stray"); }, 0); });\nit("waits", async () => { await new Promise((r) => setTimeout(r, 50)); });\n';
    expect(await closingLine({ "stray.test.ts": stray })).toBe("2 passed, 1 failed");
  }, 60_000);

  it("counts failed tests and a failed lint; a clean run is 0 failed", async () => {
    const failing = 'import { it, expect } from "vitest";\nit("fails", () => expect(1).toBe(2));\n';
    expect(await closingLine({ "f.test.ts": failing, "ok.test.ts": passing }, 1)).toBe("1 passed, 2 failed");
    expect(await closingLine({ "ok.test.ts": passing })).toBe("1 passed, 0 failed");
  }, 60_000);
});
