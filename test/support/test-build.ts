import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/** The environment variable that hands the built CLI's launcher to the test files. */
export const TEST_CLI_ENV = "TEST_KAKUNIN_CLI";
/** The environment variable that hands the built origin (its main.js) to test/support/system.ts. */
export const TEST_ORIGIN_ENV = "TEST_KAKUNIN_ORIGIN";

const build = (which: "cli" | "origin", out: string) =>
  execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs"), which, out], { cwd: ROOT, stdio: "inherit" });

/** What vitest's global setup is given: the project, whose watch-mode reruns it hooks. */
interface RerunHook {
  onTestsRerun(cb: () => unknown): void;
}

/** This process's builds: one per vitest process (several projects list the setup), never one named from outside. */
interface Builds {
  cli: string;
  origin: string;
}
const BUILDS = Symbol.for("kakunin.test-build");
const holder = globalThis as { [BUILDS]?: Builds };

/** Builds both from the current sources into their directories (each emptied first by build.mjs). */
function buildInto({ cli, origin }: Builds): void {
  build("cli", join(cli, "dist"));
  build("origin", origin);
  // Its package scope: origin/package.json is not looked up past node_modules/.
  writeFileSync(join(origin, "package.json"), '{ "type": "module" }\n');
}

function announce({ cli, origin }: Builds): void {
  process.env[TEST_CLI_ENV] = join(cli, "bin/kakunin.mjs");
  process.env[TEST_ORIGIN_ENV] = join(origin, "main.js");
}

/**
 * Vitest global setup (the cli, e2e and sdk projects): the CLI and the origin compiled once per run
 * by scripts/build.mjs from the current sources, exactly as `pnpm build` makes them, and run as
 * compiled JavaScript, as they are installed and deployed. The tests start the CLI hundreds of times
 * and origin processes dozens of times: through tsx each start cost about twice the CPU (esbuild
 * transforms and loader hooks in every process) on a 2-core CI box where another test file runs
 * beside. The CLI is laid out as `npm i -g` installs it (package.json, bin/kakunin.mjs,
 * dist/kakunin.js; no src/), so its own launcher picks the bundle, with V8's compile cache. The
 * origin's bundle sits inside origin/ (its npm dependencies stay external and resolve from
 * origin/node_modules), with the migrations and console assets beside it, like origin/dist.
 * Without this setup (a script outside vitest) the helpers run the sources through tsx.
 *
 * Never a build this process did not make from the sources under test: TEST_KAKUNIN_CLI/ORIGIN set
 * in the environment (an exported shell variable, an earlier run's paths) were taken as "already
 * built" and every test ran that build, passing while the source was broken; and in watch mode
 * (`vitest` without `run`) every rerun ran the session's first build. Now the environment is only
 * this process's output, and a rerun rebuilds into the same paths (the test files read them once).
 */
export default function setup(project?: RerunHook): () => void {
  // Several projects list this setup: the first one's builds serve the whole run.
  const made = holder[BUILDS];
  if (made) {
    announce(made);
    return () => {};
  }
  const builds: Builds = {
    cli: mkdtempSync(join(tmpdir(), "kakunin-test-cli-")),
    origin: mkdtempSync(join(ROOT, "origin/node_modules/.kakunin-test-origin-")),
  };
  const cleanup = () => {
    if (holder[BUILDS] === builds) delete holder[BUILDS];
    rmSync(builds.cli, { recursive: true, force: true });
    rmSync(builds.origin, { recursive: true, force: true });
  };
  try {
    mkdirSync(join(builds.cli, "bin"));
    copyFileSync(join(ROOT, "cli/bin/kakunin.mjs"), join(builds.cli, "bin/kakunin.mjs"));
    copyFileSync(join(ROOT, "cli/package.json"), join(builds.cli, "package.json"));
    buildInto(builds);
  } catch (e) {
    cleanup();
    throw e;
  }
  holder[BUILDS] = builds;
  announce(builds);
  // Watch mode: a rerun follows a source change, so it runs a build of the sources as they are now.
  project?.onTestsRerun(() => buildInto(builds));
  return cleanup;
}
