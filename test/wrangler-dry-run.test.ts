import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";

// CI builds the Worker exactly as `wrangler deploy` would (`pnpm build:edge`), without credentials
// or network, and checks what would be uploaded.

const ROOT = resolve(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
/** Workers' compressed size limit on the free plan; the paid plan allows 10 MiB. */
const MAX_GZIP_BYTES = 3 * 1024 * 1024;

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "kakunin-dry-run-"));
  dirs.push(d);
  return d;
}

interface DryRun {
  code: number;
  output: string;
  /** The bundle wrangler would upload. */
  bundle: string;
  /** Modules the bundle still imports at run time, from esbuild's metafile. */
  externals: string[];
  exports: string[];
}

async function dryRun(outdir: string, config?: string, environment?: string): Promise<DryRun> {
  const meta = join(outdir, "meta.json");
  const args = ["deploy", "--dry-run", "--outdir", outdir, "--metafile", meta, ...(config ? ["--config", config] : []), ...(environment ? ["--env", environment] : [])];
  const env: NodeJS.ProcessEnv = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: "true" };
  delete env.CLOUDFLARE_API_TOKEN;
  delete env.CLOUDFLARE_ACCOUNT_ID;
  const { code, output } = await new Promise<{ code: number; output: string }>((res) => {
    execFile(WRANGLER, args, { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, output: `${stdout}\n${stderr}` });
    });
  });
  const file = join(outdir, "index.js");
  if (code !== 0 || !existsSync(file) || !existsSync(meta)) return { code, output, bundle: "", externals: [], exports: [] };
  const outputs = (JSON.parse(readFileSync(meta, "utf8")) as Metafile).outputs;
  const entry = Object.values(outputs).find((o) => o.entryPoint !== undefined);
  return {
    code,
    output,
    bundle: readFileSync(file, "utf8"),
    externals: [...new Set((entry?.imports ?? []).filter((i) => i.external).map((i) => i.path))].sort(),
    exports: entry?.exports ?? [],
  };
}

interface Metafile {
  outputs: Record<string, { entryPoint?: string; imports?: { path: string; external?: boolean }[]; exports?: string[] }>;
}

describe("wrangler deploy --dry-run", () => {
  it("builds the Worker: exit 0, one bundle exporting the app and both Durable Objects, no node:* imports, under the size limit", async () => {
    const out = tempDir();
    const r = await dryRun(out);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/--dry-run: exiting now/);
    expect(r.output).not.toMatch(/wasn't found on the file system/);
    for (const binding of ["AGENT_MONITOR", "STATUS_LEDGER", "CERT_STATUS"]) expect(r.output).toContain(binding);
    expect(existsSync(join(out, "index.js"))).toBe(true);
    // wrangler.toml sets no nodejs_compat: only workerd's own cloudflare:* modules may stay external.
    expect(r.externals.filter((m) => !m.startsWith("cloudflare:"))).toEqual([]);
    expect(r.exports.sort()).toEqual(["AgentMonitor", "StatusLedger", "default"]);
    // The edge OpenAPI document is generated in the Worker, so its generator is in the bundle.
    expect(r.bundle).toContain("Kakunin edge API");
    expect(gzipSync(r.bundle).byteLength).toBeLessThan(MAX_GZIP_BYTES);
  }, 180_000);

  for (const environment of ["staging", "production"]) {
    it(`--env ${environment}: its own name, vars and every binding (bindings are not inherited in wrangler)`, async () => {
      const r = await dryRun(tempDir(), undefined, environment);
      expect(r.code, r.output).toBe(0);
      for (const binding of ["AGENT_MONITOR", "STATUS_LEDGER", "CERT_STATUS", "KAKUNIN_ENV", "ORIGIN_URL"]) expect(r.output).toContain(binding);
      expect(r.output).toContain(`"${environment}"`);
      expect(r.output).not.toMatch(/not inherited|Processing wrangler.toml configuration:\s*- "env\./);
      expect(r.exports.sort()).toEqual(["AgentMonitor", "StatusLedger", "default"]);
    }, 180_000);
  }

  it("a Worker importing node:* without nodejs_compat still exits 0 (wrangler 4.156 no longer even warns), so the externals check is what catches it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "index.ts"), 'import { readFileSync } from "node:fs";\nexport default { fetch: () => new Response(String(readFileSync)) };\n');
    writeFileSync(join(dir, "wrangler.toml"), 'name = "dry-run-negative"\nmain = "index.ts"\ncompatibility_date = "2026-11-01"\n');
    const r = await dryRun(join(dir, "out"), join(dir, "wrangler.toml"));
    expect(r.code, r.output).toBe(0);
    expect(r.externals).toEqual(["node:fs"]);
  }, 180_000);
});
