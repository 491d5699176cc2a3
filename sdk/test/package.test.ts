import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// @kakunin/verify as users get it: `pnpm pack` (which builds dist/ and swaps in
// publishConfig.exports), installed OFFLINE into a throw-away project, then imported from plain
// Node (ESM and CommonJS), type-checked from TypeScript (node16 and bundler resolution), and
// bundled into a Worker by wrangler. The size budget is printed and enforced.
const SDK = resolve(import.meta.dirname, "..");
const ROOT = resolve(SDK, "..");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
/** gzip of the minified ESM bundle of the main entry (everything a gateway imports). */
const BUDGET_GZIP_BYTES = 12 * 1024;
/** The packed tarball. */
const BUDGET_TARBALL_BYTES = 80 * 1024;

const work = mkdtempSync(join(tmpdir(), "kakunin-sdk-pack-"));
const app = join(work, "app");
const installed = join(app, "node_modules/@kakunin/verify");
let tarball = "";
let manifest: Record<string, unknown> = {};
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (cmd: string, args: string[], cwd: string) =>
  new Promise<{ code: number; out: string }>((done) => {
    execFile(
      cmd,
      args,
      { cwd, timeout: 180_000, env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: "true" } },
      (e, stdout, stderr) => done({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });

beforeAll(async () => {
  execFileSync("pnpm", ["pack", "--pack-destination", work], { cwd: SDK, stdio: "pipe" });
  tarball = join(work, readdirSync(work).find((f) => f.endsWith(".tgz"))!);
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, version: "0.0.0" }));
  // --offline: the SDK has no dependencies, so nothing may need the registry.
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], { cwd: app, stdio: "pipe" });
  manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Record<string, unknown>;
}, 240_000);

describe("the packed @kakunin/verify", () => {
  it("holds dist, README and LICENSE only, and a manifest npm users can rely on", () => {
    const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(
      files.every((f) => /^package\/(package\.json|README\.md|LICENSE|dist\/.+)$/.test(f)),
      files.join("\n"),
    ).toBe(true);
    for (const f of ["dist/esm/index.js", "dist/esm/index.d.ts", "dist/cjs/index.js", "dist/cjs/index.d.ts", "dist/cjs/package.json", "dist/esm/rules.js"]) {
      expect(files).toContain(`package/${f}`);
    }
    expect(manifest).toMatchObject({ name: "@kakunin/verify", license: "Apache-2.0", sideEffects: false, files: expect.arrayContaining(["dist"]) });
    expect(manifest.repository).toMatchObject({ type: "git", directory: "sdk" });
    expect(manifest.dependencies ?? {}).toEqual({}); // zero runtime dependencies
    const exports = manifest.exports as Record<string, { import: { types: string; default: string }; require: { types: string; default: string } }>;
    for (const entry of [".", "./hono", "./express", "./rules"]) {
      const e = exports[entry]!;
      // `types` first in each condition, as TypeScript requires; every target exists.
      expect(Object.keys(e.import)[0]).toBe("types");
      expect(Object.keys(e.require)[0]).toBe("types");
      for (const p of [e.import.types, e.import.default, e.require.types, e.require.default]) expect(existsSync(join(installed, p)), p).toBe(true);
    }
    expect(JSON.stringify(manifest)).not.toContain("workspace:");
    expect(JSON.stringify(manifest.exports)).not.toContain("/src/");
  });

  it("imports from plain Node as an ES module and with require()", () => {
    const probe = `const serial = sdk.normaliseSerial(" 4A:0B "); const rules = RULES;
      const v = sdk.createVerifier({ edgeUrl: "https://verify.example.com" });
      console.log(JSON.stringify({ serial, scope: rules.inScope(["orders.*"], "orders.place"), verify: typeof v.verify, err: new sdk.SigningError("x") instanceof Error,
        checks: rules.callerCheckReasons({ model: { hash: "a" }, scopes: [] }, { modelHash: "b", scopes: ["x.y"] }).map((r) => r.code) }));`;
    const expected = { serial: "4a0b", scope: true, verify: "function", err: true, checks: ["model_hash_mismatch", "scope_not_granted"] };
    writeFileSync(join(app, "esm.mjs"), `import * as sdk from "@kakunin/verify"; import * as RULES from "@kakunin/verify/rules"; ${probe}`);
    writeFileSync(join(app, "cjs.cjs"), `const sdk = require("@kakunin/verify"); const RULES = require("@kakunin/verify/rules"); ${probe}`);
    for (const file of ["esm.mjs", "cjs.cjs"]) {
      expect(JSON.parse(execFileSync(process.execPath, [file], { cwd: app, encoding: "utf8" })), file).toEqual(expected);
    }
    // The CommonJS build really is CommonJS (not an ES module Node happens to load through require()).
    expect(readFileSync(join(installed, "dist/cjs/index.js"), "utf8")).toMatch(/exports\.\w+ = /);
  });

  for (const resolution of ["node16", "bundler"] as const) {
    it(`type-checks a TypeScript consumer with moduleResolution ${resolution}`, () => {
      const dir = join(app, `ts-${resolution}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: "ES2022",
            lib: ["ES2022", "DOM"],
            types: [],
            skipLibCheck: false,
            module: resolution === "node16" ? "node16" : "esnext",
            moduleResolution: resolution,
          },
          include: ["*.ts", "*.cts"],
        }),
      );
      writeFileSync(
        join(dir, "consumer.ts"),
        `import { createVerifier, type VerifyResult } from "@kakunin/verify";
import { inScope } from "@kakunin/verify/rules";
const v = createVerifier({ edgeUrl: "https://verify.example.com" });
export async function check(serial: string): Promise<boolean> {
  const r: VerifyResult = await v.verify(serial, { scope: "orders.place" });
  return r.kind === "checked" && r.valid && inScope(r.data.scopes, "orders.place");
}
// Real types, not any: a wrong option is an error.
// @ts-expect-error edgeUrl must be a string
createVerifier({ edgeUrl: 42 });
`,
      );
      if (resolution === "node16") {
        // The require() side of the exports map, from a CommonJS TypeScript module.
        writeFileSync(
          join(dir, "legacy.cts"),
          `import sdk = require("@kakunin/verify");
export const serial: string | undefined = sdk.normaliseSerial("4a");
`,
        );
      }
      const r = (() => {
        try {
          return { code: 0, out: execFileSync(process.execPath, [TSC, "-p", dir], { encoding: "utf8" }) };
        } catch (e) {
          return { code: 1, out: String((e as { stdout?: string }).stdout ?? e) };
        }
      })();
      expect(r.out).toBe("");
      expect(r.code).toBe(0);
    }, 120_000);
  }

  it("bundles into a Worker with wrangler (no node:* imports)", async () => {
    const dir = join(app, "worker");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "index.js"),
      `import { createVerifier } from "@kakunin/verify";
const verifier = createVerifier({ edgeUrl: "https://verify.example.com" });
export default { async fetch(req) { const r = await verifier.verify(new URL(req.url).pathname.slice(1)); return Response.json({ valid: r.valid }); } };
`,
    );
    writeFileSync(join(dir, "wrangler.toml"), `name = "sdk-consumer"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n`);
    const r = await run(WRANGLER, ["deploy", "--dry-run", "--outdir", join(dir, "out")], dir);
    expect(r.code, r.out).toBe(0);
    const bundle = readFileSync(join(dir, "out/index.js"), "utf8");
    expect(bundle).toContain("edgeUrl must be an http(s) URL");
    expect(bundle).not.toMatch(/from\s*["']node:/);
  }, 180_000);

  it(`stays within its size budget (gzip of the minified main entry ≤ ${BUDGET_GZIP_BYTES} B, tarball ≤ ${BUDGET_TARBALL_BYTES} B)`, async () => {
    const out = await build({
      entryPoints: [join(installed, "dist/esm/index.js")],
      bundle: true,
      minify: true,
      format: "esm",
      platform: "neutral",
      write: false,
      logLevel: "silent",
    });
    const min = out.outputFiles[0]!.contents;
    const gz = gzipSync(min).byteLength;
    const packed = readFileSync(tarball).byteLength;
    console.log(
      `@kakunin/verify size: ${min.byteLength} B minified, ${gz} B min+gzip (budget ${BUDGET_GZIP_BYTES} B); tarball ${packed} B (budget ${BUDGET_TARBALL_BYTES} B)`,
    );
    expect(gz).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
    expect(packed).toBeLessThanOrEqual(BUDGET_TARBALL_BYTES);
  });
});
