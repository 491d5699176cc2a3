// The architecture's rules, checked on every `pnpm lint` (and so in `pnpm test` and CI):
// - workers/, shared/ and sdk/ run on Web APIs only: no node:* or Node built-in modules, no AWS SDK;
// - shared/ imports no component (origin, edge, cli); its one workspace dependency is the SDK's
//   dependency-free rules (@kakunin/verify/rules: scope, serial, verdict checks have one source);
// - sdk/ imports nothing of the repository at run time (type-only imports of its optional peers
//   hono and express are allowed);
// - the edge and the origin never import each other;
// - key management (origin/src/kms) and the CA (origin/src/ca) never import audit;
// - domain code (lifecycle/, ca/, audit/, publish/) never imports views/ or routes/;
// - routes are thin: origin/src/routes/* never write to the database (.insert/.update/.delete),
//   writes live in origin/src/lifecycle/.
// Pre-existing violations are listed in KNOWN, each with its reason; a listed exception that no
// longer occurs fails too, so the list only shrinks. Usage: node scripts/check-architecture.mjs
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, normalize, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NODE_BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith("_")));

/**
 * Known violations (file → the import or write it may keep), to be removed as they are fixed.
 * Each is a rule that holds everywhere else.
 */
export const KNOWN = [];

const SOURCE = /\.(ts|mts|cts|mjs|js)$/;

function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (SOURCE.test(name) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Every static import, re-export, dynamic import and require of a file, with whether it is type-only. */
export function importsOf(text) {
  const found = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const m of code.matchAll(/(?:^|[;\n])\s*(import|export)\s+(type\s+)?(?:[\w*${},\s]+?\s+from\s+)?["']([^"']+)["']/g)) {
    found.push({ spec: m[3], typeOnly: Boolean(m[2]) });
  }
  for (const m of code.matchAll(/(?:\bimport|\brequire)\s*\(\s*["']([^"']+)["']\s*\)/g)) found.push({ spec: m[1], typeOnly: false });
  return found;
}

const under = (file, ...dirs) => dirs.some((d) => file.startsWith(`${d}/`));

/** Checks `files` (repo-relative path → text). Returns the violations not listed in KNOWN, and KNOWN entries that no longer occur. */
export function check(files) {
  const violations = [];
  const add = (file, rule, target, message) => violations.push({ file, rule, target, message });
  for (const [file, text] of Object.entries(files)) {
    const webOnly = under(file, "workers/src", "shared/src", "sdk/src");
    for (const { spec, typeOnly } of importsOf(text)) {
      const resolved = spec.startsWith(".") ? normalize(join(dirname(file), spec)).replace(/\\/g, "/") : undefined;
      if (webOnly && !typeOnly && (spec.startsWith("node:") || NODE_BUILTINS.has(spec.split("/")[0])))
        add(file, "web-apis-only", spec, "a Node built-in in code that runs on Web APIs only");
      if (webOnly && spec.startsWith("@aws-sdk/")) add(file, "web-apis-only", spec, "the AWS SDK in code that runs on Web APIs only");
      if (under(file, "shared/src") && (/^@kakunin\/(origin|edge|cli)\b/.test(spec) || (resolved && !resolved.startsWith("shared/"))))
        add(file, "shared-no-components", spec, "shared/ imports a component");
      if (
        under(file, "sdk/src") &&
        !typeOnly &&
        (spec.startsWith("@kakunin/") || (resolved && !resolved.startsWith("sdk/src/")) || (!resolved && !spec.startsWith("node:")))
      ) {
        add(file, "sdk-self-contained", spec, "the SDK imports something at run time (it has no dependencies)");
      }
      if (under(file, "workers") && (spec.startsWith("@kakunin/origin") || resolved?.startsWith("origin/")))
        add(file, "edge-origin-apart", spec, "the edge imports the origin");
      if (under(file, "origin") && (spec.startsWith("@kakunin/edge") || resolved?.startsWith("workers/")))
        add(file, "edge-origin-apart", spec, "the origin imports the edge");
      if (under(file, "origin/src/ca", "origin/src/kms") && resolved?.startsWith("origin/src/audit/"))
        add(file, "ca-kms-no-audit", resolved, "the CA or key management imports audit (inject a hook instead)");
      if (
        under(file, "origin/src/lifecycle", "origin/src/ca", "origin/src/audit", "origin/src/publish") &&
        (resolved?.startsWith("origin/src/views/") || resolved?.startsWith("origin/src/routes/"))
      ) {
        add(file, "domain-no-views", resolved, "domain code imports views/ or routes/");
      }
    }
    if (under(file, "origin/src/routes") && /\.(insert|update|delete)\(\s*(schema\.)?[a-zA-Z]+\s*\)/.test(text))
      add(file, "thin-routes", "write", "a route writes to the database (writes live in origin/src/lifecycle/)");
  }
  const key = (v) => `${v.file}|${v.rule}|${v.target}`;
  const known = new Set(KNOWN.map(key));
  const seen = new Set(violations.map(key));
  return {
    violations: violations.filter((v) => !known.has(key(v))),
    stale: KNOWN.filter((k) => !seen.has(key(k))),
  };
}

/** The repository's source files under the checked folders. */
export function repoFiles(root = ROOT) {
  const files = {};
  for (const dir of ["workers", "shared", "sdk", "origin", "cli"]) {
    for (const p of walk(join(root, dir))) files[relative(root, p).replace(/\\/g, "/")] = readFileSync(p, "utf8");
  }
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { violations, stale } = check(repoFiles());
  for (const v of violations) console.error(`architecture: ${v.file}: ${v.message} (${v.target}) [${v.rule}]`);
  for (const k of stale)
    console.error(`architecture: ${k.file} no longer violates ${k.rule} (${k.target}): remove it from KNOWN in scripts/check-architecture.mjs`);
  if (violations.length || stale.length) process.exit(1);
  console.log(`architecture: ${Object.keys(repoFiles()).length} files, rules hold (${KNOWN.length} known exceptions listed)`);
}
