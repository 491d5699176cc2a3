import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/**
 * `pnpm demo` as a user runs it: `bash scripts/demo.sh`, which starts a real origin and a real
 * `wrangler dev` itself. Asserts the story it tells, its own timing, and that nothing it started
 * outlives it: after success, after a failing step, and after Ctrl-C.
 */
const ROOT = resolve(import.meta.dirname, "..");

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function runDemo(args: string[] = [], onOut?: (all: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((res, rej) => {
    // NO_COLOR as well as a pipe: the assertions read plain text either way.
    const child = spawn("bash", ["scripts/demo.sh", ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      onOut?.(out, child);
    });
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", rej);
    child.on("close", (code, signal) => res({ code, signal, out, err }));
  });
}

/** The ports and data dir the demo announces in step 1. */
function announced(out: string): { originPort: number; edgePort: number; dataDir: string } {
  const m = /origin http:\/\/127\.0\.0\.1:(\d+), edge http:\/\/127\.0\.0\.1:(\d+), data (\S+)/.exec(out);
  if (!m) throw new Error(`the demo did not announce its ports and data dir:\n${out}`);
  return { originPort: Number(m[1]), edgePort: Number(m[2]), dataDir: m[3]! };
}

/** The text of step `n`: its header up to the next header (or the end). */
function section(out: string, n: number): string {
  const start = out.search(new RegExp(`^ ?${n}\\. `, "m"));
  if (start < 0) throw new Error(`no step ${n} in:\n${out}`);
  const rest = out.slice(start + 3);
  const next = rest.search(/^ ?\d+\. /m);
  return out.slice(start, next < 0 ? undefined : start + 3 + next);
}

function refused(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      res(false);
    });
    s.once("error", () => res(true));
  });
}

/** Processes whose command line or environment names the demo's temp dir (wrangler and workerd carry
 * it in argv, the origin in KAKUNIN_DATA_DIR). */
function processesUsing(dir: string): string[] {
  if (!existsSync("/proc")) return [];
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(dir) || readFileSync(`/proc/${pid}/environ`, "utf8").includes(dir)) found.push(`${pid}: ${cmd.slice(0, 200)}`);
    } catch {
      /* exited while we looked */
    }
  }
  return found;
}

async function expectNothingLeft(a: { originPort: number; edgePort: number; dataDir: string }): Promise<void> {
  expect(await refused(a.originPort)).toBe(true);
  expect(await refused(a.edgePort)).toBe(true);
  expect(processesUsing(a.dataDir)).toEqual([]);
  expect(existsSync(a.dataDir)).toBe(false);
}

describe("pnpm demo", () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it("tells the whole story, exits 0 within a minute, and leaves nothing running", async () => {
    const t0 = performance.now();
    const run = await runDemo();
    const wallMs = performance.now() - t0;
    expect(run.code, `${run.out}\n${run.err}`).toBe(0);
    const out = run.out;

    expect(section(out, 2)).toMatch(/agent [0-9a-f-]{36} "trading-bot-7f3a", status active/);
    expect(section(out, 3)).toMatch(/serial [0-9a-f]{16,40}/);
    expect(section(out, 4)).toMatch(/→ active, valid true, risk \d\.\d\d low/);
    const gateway = section(out, 5);
    expect(gateway).toMatch(/request signed via POST \/v1\/agents\/:id\/sign .*→ 200/);
    expect(gateway).toMatch(/same request replayed → 401 signature-replayed; serial copied from a log, no signature → 401 signature-missing/);
    expect(gateway).toMatch(/body changed after signing .* → 401 /);
    const normal = section(out, 6);
    expect(normal).toMatch(/→ 120 accepted, bands: 120 low/);
    expect(normal).toMatch(/agent risk now \d\.\d\d low/);
    expect(normal).not.toMatch(/\bhigh\b/);
    const burst = section(out, 7);
    expect(burst).toMatch(/→ 30 accepted, bands: .*\d+ high/);
    expect(burst).toMatch(/highest: burst-\d+ scored (0\.(8[5-9]|9\d)|1\.00) high/);
    expect(burst).toMatch(/out_of_scope \+\d\.\d\d/);
    const revoked = section(out, 8);
    expect(revoked).toMatch(/→ revoked \(risk_threshold\), valid false, risk \d\.\d\d high/);
    const ms = /propagation: (\d+) ms/.exec(revoked);
    expect(ms, revoked).not.toBeNull();
    expect(Number(ms![1])).toBeLessThan(15_000);
    expect(revoked).toMatch(/agent suspended/);
    expect(revoked).toMatch(/refused \(403\)/);
    const evidence = section(out, 9);
    expect(evidence).toMatch(/origin holds all 150 events/);
    expect(evidence).toMatch(/150 event\.ingested/);
    expect(evidence).toMatch(/1 certificate\.revoked/);
    const verified = section(out, 10);
    expect(verified).toMatch(/kakunin audit verify: exit 0, verified/);
    // The verifier itself saw every event inside the certificate's validity (its own ✓ line).
    expect(verified).toMatch(/^    ✓ .*150 of 150 events/m);
    expect(verified).toMatch(/tampered copy .* is rejected \(exit 1\): ✗/);
    expect(verified).toMatch(/trimmed copy \(the revocation deleted\) is rejected \(exit 1\): ✗ no entry removed/);
    expect(verified).toMatch(/trust anchor: .*\(matches --root\)/);
    // It ends by writing the evidence report and naming the file.
    const reportStep = section(out, 11);
    const written = /report written to (\S+\.html) \(\d+ KiB/.exec(reportStep);
    expect(written, reportStep).not.toBeNull();
    expect(readFileSync(written![1]!, "utf8")).toMatch(/VERIFIED: \d+ entries/);
    expect(out).toMatch(new RegExp(`^evidence report: ${written![1]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));

    // The demo's own clock, start of the system included, must stay under a minute.
    const total = /all 11 steps passed, total (\d+\.\d+) s/.exec(out);
    expect(total, out).not.toBeNull();
    expect(Number(total![1])).toBeLessThan(60);
    // And as the user waits for it: bash, tool checks and process start-up included.
    expect(wallMs).toBeLessThan(60_000);
    await expectNothingLeft(announced(out));
  }, 120_000);

  it("names the failing step, shows the services' logs, exits 1 and cleans up when a step fails", async () => {
    // An origin port something else holds (and that never answers HTTP): the origin cannot start.
    const squatter = createServer((sock) => sock.destroy());
    servers.push(squatter);
    const port = await new Promise<number>((r) => squatter.listen(0, "127.0.0.1", () => {
      const a = squatter.address();
      r(typeof a === "object" && a ? a.port : 0);
    }));
    const run = await runDemo(["--origin-port", String(port)]);
    expect(run.code, `${run.out}\n${run.err}`).toBe(1);
    expect(run.err).toMatch(/✗ step 1 \(Start the system on embedded defaults\) failed: origin exited/);
    expect(run.err).toMatch(/--- origin log, last \d+ lines ---[\s\S]*EADDRINUSE/);
    expect(run.err).toMatch(/--- edge log/);
    expect(run.out).not.toMatch(/^ 2\. /m);
    const a = announced(run.out);
    expect(a.originPort).toBe(port);
    // The squatter still holds its port; everything the demo started is gone.
    expect(await refused(a.edgePort)).toBe(true);
    expect(processesUsing(a.dataDir)).toEqual([]);
    expect(existsSync(a.dataDir)).toBe(false);
  }, 120_000);

  it("stops origin and edge and removes its temp dir on Ctrl-C", async () => {
    let sent = false;
    // Interrupted while the system is still starting: the moment a user is most likely to give up.
    const run = await runDemo([], (all, child) => {
      if (!sent && /data \S+\n/.test(all)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    expect(sent).toBe(true);
    expect(run.code, `${run.out}\n${run.err}`).toBe(130);
    expect(run.err).toMatch(/SIGINT: stopping origin and edge/);
    expect(run.out).not.toMatch(/steps passed/);
    await expectNothingLeft(announced(run.out));
  }, 120_000);

  it("refuses an unknown argument with its usage and exit 2, starting nothing", async () => {
    const run = await runDemo(["--bogus"]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/demo: unknown argument --bogus/);
    expect(run.out).toMatch(/usage: pnpm demo/);
    expect(run.out).not.toMatch(/Start the system/);
  }, 60_000);
});
