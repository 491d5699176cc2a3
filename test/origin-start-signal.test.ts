import { spawn } from "node:child_process";
import { cpSync, existsSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pgliteTemplateDir } from "../origin/test/pglite-template.ts";
import { freePort, pollUntil, systemFixture } from "./support/system.ts";
import { TEST_ORIGIN_ENV } from "./support/test-build.ts";

// A SIGTERM (a supervisor's restart, a Ctrl-C under `pnpm start`) while the origin is still in its
// bounded waits before it listens: up to 5 s for the edge to take the CRLs (a slow or hung edge),
// up to 2 s for the S3 bucket check. By then the publisher, refresher, archiver, tidy job and
// webhook dispatcher are running, but the signal handlers were only installed after the port
// opened, so the signal killed the process outright: a webhook the receiver acknowledged was never
// written down (sent again after the restart), and the embedded database's lock was left behind.
// The origin must stop in order: jobs, then the database, exit status 0.
const fx = systemFixture();
const sockets = new Set<Socket>();
let hungEdge: Server;
let connected = 0;
beforeAll(async () => {
  hungEdge = createServer((s) => {
    connected++;
    sockets.add(s);
    s.resume();
  });
  await new Promise<void>((r) => hungEdge.listen(0, "127.0.0.1", r));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => hungEdge.close(r));
  fx.cleanup();
});

it("SIGTERM while the origin waits for a hung edge before listening: an orderly stop, status 0, the data dir unlocked", async () => {
  const a = hungEdge.address();
  const edgePort = a && typeof a === "object" ? a.port : 0;
  const dataDir = join(fx.dir, "origin");
  cpSync(await pgliteTemplateDir(), join(dataDir, "pglite"), { recursive: true });
  const built = process.env[TEST_ORIGIN_ENV];
  const entry = built ? [built] : ["--import", "tsx", "src/main.ts"];
  const proc = spawn(process.execPath, entry, {
    cwd: resolve(import.meta.dirname, "../origin"),
    env: {
      ...process.env,
      KAKUNIN_ORIGIN_PORT: String(await freePort()),
      KAKUNIN_DATA_DIR: dataDir,
      KAKUNIN_EDGE_URL: `http://127.0.0.1:${edgePort}`,
      KAKUNIN_EDGE_SECRET: fx.secret,
      KAKUNIN_ADMIN_KEY: fx.adminKey,
      KAKUNIN_LOCAL_KEY_POOL: "2",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once("exit", (code, signal) => r({ code, signal })));
  try {
    // The publisher's first delivery reached the hung edge: the origin is in its wait, not listening.
    await pollUntil(async () => (connected > 0 ? true : undefined), 60_000, 50);
    expect(out).not.toContain('"event":"listening"');
    proc.kill("SIGTERM");
    const end = await exited;
    expect({ ...end, log: end.code === 0 ? "" : out.slice(-2000) }).toEqual({ code: 0, signal: null, log: "" });
    expect(out).toContain('"event":"stopped"');
    expect(out).not.toContain('"event":"listening"');
    expect(existsSync(join(dataDir, "pglite", "kakunin-origin.lock"))).toBe(false);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  }
}, 120_000);
