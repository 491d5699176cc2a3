// `pnpm lint` (also run by scripts/test.sh before the tests, so by `pnpm test` and CI; ~5 s):
// 1. Biome's linter (biome.json): errors fail, warnings are reported.
// 2. Biome's formatter as a ratchet: the repository predates it and is not reformatted in one go
//    (that would conflict with every open branch), so scripts/format-baseline.txt lists the files
//    that were not formatted when it came in. Every other file — new ones included — must be
//    formatted (`pnpm format <file>`); a listed file that becomes formatted must leave the list.
//    After a merge that brings new unformatted files: `pnpm format` them, or, to accept them as
//    they are, `node scripts/lint.mjs --update-format-baseline`.
// 3. The architecture's rules (scripts/check-architecture.mjs).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { check, repoFiles } from "./check-architecture.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BASELINE = join(ROOT, "scripts/format-baseline.txt");
const biomeBin = join(dirname(createRequire(join(ROOT, "package.json")).resolve("@biomejs/biome/package.json")), "bin/biome");
const biome = (...args) => spawnSync(process.execPath, [biomeBin, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 << 20 });

let failed = false;

const lint = biome("lint", "--diagnostic-level=error", "--max-diagnostics=200", ".");
if (lint.status !== 0) {
  process.stderr.write(lint.stdout + lint.stderr);
  console.error("lint: Biome found errors (above)");
  failed = true;
}

const fmt = biome("format", "--reporter=json", ".");
const report = JSON.parse(fmt.stdout || "{}");
const unformatted = [...new Set((report.diagnostics ?? []).filter((d) => d.category === "format").map((d) => d.location.path))].sort();
if (process.argv.includes("--update-format-baseline")) {
  writeFileSync(BASELINE, `${unformatted.join("\n")}\n`);
  console.log(`lint: format baseline now lists ${unformatted.length} files`);
} else {
  const baseline = new Set(readFileSync(BASELINE, "utf8").split("\n").filter(Boolean));
  const fresh = unformatted.filter((f) => !baseline.has(f));
  // A listed file that was deleted or renamed (on another branch) is not an error; --update drops it.
  const done = [...baseline].filter((f) => !unformatted.includes(f) && existsSync(join(ROOT, f)));
  for (const f of fresh) console.error(`lint: ${f} is not formatted: pnpm format ${f}`);
  for (const f of done) console.error(`lint: ${f} is formatted now: remove it from scripts/format-baseline.txt`);
  if (fresh.length || done.length) failed = true;
}

const arch = check(repoFiles(ROOT));
for (const v of arch.violations) console.error(`architecture: ${v.file}: ${v.message} (${v.target}) [${v.rule}]`);
for (const k of arch.stale)
  console.error(`architecture: ${k.file} no longer violates ${k.rule} (${k.target}): remove it from KNOWN in scripts/check-architecture.mjs`);
if (arch.violations.length || arch.stale.length) failed = true;

if (failed) process.exit(1);
console.log(`lint: ok (Biome lint, format ratchet with ${unformatted.length} files still to format, architecture rules)`);
