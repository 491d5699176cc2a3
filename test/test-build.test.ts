import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import setup, { TEST_CLI_ENV, TEST_ORIGIN_ENV } from "./support/test-build.ts";

/** What a build made by another run (or an older source tree) prints: it must never be run. */
const STALE = 'console.log("stale build");\n';

const saved = { cli: process.env[TEST_CLI_ENV], origin: process.env[TEST_ORIGIN_ENV] };
const undo: (() => void)[] = [];
afterEach(() => {
  for (const f of undo.splice(0).reverse()) f();
  for (const [k, v] of [
    [TEST_CLI_ENV, saved.cli],
    [TEST_ORIGIN_ENV, saved.origin],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** A fake vitest project: the test plays vitest's watch mode by calling what setup registered. */
function project() {
  const reruns: (() => unknown)[] = [];
  return { reruns, onTestsRerun: (cb: () => unknown) => void reruns.push(cb) };
}

const cliSays = (launcher: string) => execFileSync(process.execPath, [launcher, "--version"], { encoding: "utf8" });

/**
 * The compiled CLI and origin the cli, e2e and sdk tests run must be built from the sources under
 * test. A build from anything else (an earlier run's, one named by the environment, the first
 * build of a watch session after the sources changed) lets a test pass while the source is broken.
 */
describe("test/support/test-build.ts builds what the tests run from the current sources", () => {
  it("does not take a build named by TEST_KAKUNIN_CLI / TEST_KAKUNIN_ORIGIN from outside the run", () => {
    const stale = mkdtempSync(join(tmpdir(), "kakunin-stale-build-"));
    undo.push(() => rmSync(stale, { recursive: true, force: true }));
    mkdirSync(join(stale, "bin"));
    writeFileSync(join(stale, "bin/kakunin.mjs"), STALE);
    writeFileSync(join(stale, "main.js"), STALE);
    process.env[TEST_CLI_ENV] = join(stale, "bin/kakunin.mjs");
    process.env[TEST_ORIGIN_ENV] = join(stale, "main.js");

    undo.push(setup(project()));

    expect(process.env[TEST_CLI_ENV]).not.toBe(join(stale, "bin/kakunin.mjs"));
    expect(process.env[TEST_ORIGIN_ENV]).not.toBe(join(stale, "main.js"));
    expect(cliSays(process.env[TEST_CLI_ENV]!)).toMatch(/^kakunin \S+/);
  });

  it("rebuilds both when vitest's watch mode reruns the tests", async () => {
    const p = project();
    undo.push(setup(p));
    const cli = process.env[TEST_CLI_ENV]!;
    const origin = process.env[TEST_ORIGIN_ENV]!;
    // What the first build of a watch session is once a source changes: not the sources any more.
    writeFileSync(join(dirname(cli), "../dist/kakunin.js"), STALE);
    writeFileSync(origin, STALE);
    expect(cliSays(cli)).toBe("stale build\n");

    for (const rerun of p.reruns) await rerun();

    // The same paths (the test files read them once), built again from the sources.
    expect(process.env[TEST_CLI_ENV]).toBe(cli);
    expect(process.env[TEST_ORIGIN_ENV]).toBe(origin);
    expect(cliSays(cli)).toMatch(/^kakunin \S+/);
    expect(readFileSync(origin, "utf8")).not.toBe(STALE);
  });
});
