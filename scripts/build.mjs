// `pnpm build`: compiled JavaScript for production, so nothing compiles TypeScript at run time.
// - origin/dist/main.js: the origin and the workspace code it uses (@kakunin/shared) in one ES
//   module; npm dependencies stay external (installed with `pnpm install --prod`), native and WASM
//   packages (pkcs11js, PGlite) load their files from node_modules as usual. The migrations are
//   copied beside it (origin/dist/migrations), where origin/src/db/index.ts looks first; so are the
//   console's assets (origin/dist/console-assets).
// - sdk/dist/{esm,cjs}: @kakunin/verify for npm, compiled by tsc (typescript, pinned in sdk) file by
//   file, not bundled (it has no dependencies, and one module graph keeps `instanceof` working
//   across its entry points): ES modules + .d.ts in esm/, CommonJS + .d.ts in cjs/ (marked
//   "type": "commonjs"). `pnpm pack` swaps in publishConfig.exports, which point there.
// - cli/dist/kakunin.js: the whole CLI with every dependency inlined: `npm i -g` of the packed
//   tarball needs nothing else (no tsx, no dev dependencies).
import { execFileSync } from "node:child_process";
import { build } from "esbuild";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const pkg = (dir) => JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
const common = {
  bundle: true, platform: "node", format: "esm", target: "node22", sourcemap: "linked",
  logLevel: "warning", legalComments: "linked",
  // Bundled CommonJS dependencies call require(); an ES module has none unless we make one.
  banner: { js: 'import { createRequire as __kakuninRequire } from "node:module"; const require = __kakuninRequire(import.meta.url);' },
};

// `out`: another directory for the bundle and its migrations and console assets (the test runs
// build one there once per run: test/support/test-build.ts); it must be inside origin/ so the
// external npm dependencies resolve from origin/node_modules. The default is origin/dist.
async function origin(out = join(root, "origin/dist")) {
  rmSync(out, { recursive: true, force: true });
  const deps = Object.keys(pkg("origin").dependencies).filter((d) => !d.startsWith("@kakunin/"));
  // A shebang: package.json's bin `kakunin-origin` (serve | migrate) runs this file directly.
  await build({
    ...common, entryPoints: [join(root, "origin/src/main.ts")], outfile: join(out, "main.js"), external: deps,
    banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
  });
  cpSync(join(root, "migrations"), join(out, "migrations"), { recursive: true });
  // The console's own script and stylesheet, where origin/src/console/assets.ts looks first.
  cpSync(join(root, "origin/src/console/assets"), join(out, "console-assets"), { recursive: true });
}

// `out`: another directory for the bundle (test/support/test-build.ts); the default is cli/dist.
async function cli(out = join(root, "cli/dist")) {
  rmSync(out, { recursive: true, force: true });
  await build({
    ...common, entryPoints: [join(root, "cli/src/main.ts")], outfile: join(out, "kakunin.js"),
    define: { KAKUNIN_CLI_VERSION: JSON.stringify(pkg("cli").version ?? "0.0.0") },
  });
}

function sdk() {
  const dir = join(root, "sdk");
  rmSync(join(dir, "dist"), { recursive: true, force: true });
  const tsc = createRequire(join(dir, "package.json")).resolve("typescript/bin/tsc");
  for (const config of ["tsconfig.build.json", "tsconfig.cjs.json"]) execFileSync(process.execPath, [tsc, "-p", config], { cwd: dir, stdio: "inherit" });
  writeFileSync(join(dir, "dist/cjs/package.json"), '{ "type": "commonjs" }\n');
}

// `node scripts/build.mjs [origin|cli|sdk] [outDir]`: everything, or one package (to outDir).
const which = process.argv[2];
const outDir = which && process.argv[3] ? resolve(process.argv[3]) : undefined;
if (!which || which === "origin") await origin(outDir);
if (!which || which === "cli") await cli(outDir);
if (!which || which === "sdk") sdk();
