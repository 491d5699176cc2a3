import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, systemFixture } from "./support/system.ts";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * The contract's "Local run": `pnpm start` runs the origin and the edge, and "GET /healthz on both
 * answers 200 when ready". A client that waits for that and then fetches the edge's CA chain or CRL
 * (to build a trust store for openssl, say) must get them. scripts/start.mjs started both at once:
 * the origin created its CAs and bound its port while wrangler was still starting, its first
 * publish of the CA chain and CRL failed and backed off, and for up to a second or more after
 * both /healthz answered the edge's /v1/ca and /v1/crl were 404 (2026-12-07).
 */
describe("`pnpm start`: ready means the edge serves the CA chain and the CRL", () => {
  /** scripts/start.mjs as `pnpm start` runs it (scripts/start.sh only puts Node on PATH first). */
  function start(dataDir: string, originPort: number, edgePort: number, adminKey: string) {
    const child = spawn(process.execPath, ["scripts/start.mjs"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        KAKUNIN_DATA_DIR: dataDir,
        KAKUNIN_ORIGIN_PORT: String(originPort),
        KAKUNIN_EDGE_PORT: String(edgePort),
        KAKUNIN_ADMIN_KEY: adminKey,
        // Fewer pre-generated agent keys (the default 32 cost seconds of CPU on a shared box); no
        // effect on the CAs or on when either side answers.
        KAKUNIN_LOCAL_KEY_POOL: "2",
      },
    });
    let out = "";
    const keep = (c: Buffer) => {
      out = (out + c.toString()).slice(-20_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    return {
      log: () => out,
      running: () => child.exitCode === null && child.signalCode === null,
      /** Ctrl-C, as a terminal sends it to start.mjs's process group; waits for both to stop. */
      async stop() {
        try {
          process.kill(-child.pid!, "SIGINT");
        } catch {
          /* gone */
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {
            /* gone */
          }
        }, 30_000);
        await exited;
        clearTimeout(timer);
      },
    };
  }

  async function healthy(url: string): Promise<boolean> {
    try {
      return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200;
    } catch {
      return false;
    }
  }

  /** Polls both /healthz until both answer 200 (as a script waiting for `pnpm start` does). */
  async function waitBothHealthy(origin: string, edge: string, sys: ReturnType<typeof start>): Promise<void> {
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline) {
      if (!sys.running()) throw new Error(`pnpm start exited before both /healthz answered:\n${sys.log()}`);
      const [o, e] = await Promise.all([healthy(origin), healthy(edge)]);
      if (o && e) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`both /healthz did not answer 200 in time:\n${sys.log()}`);
  }

  /** What the edge answers, right away, for each public PKI path a trust store is built from. */
  async function pkiStatuses(edge: string): Promise<Record<string, number>> {
    const paths = ["/v1/ca", "/v1/ca/default", "/v1/crl", "/v1/crl/default", "/v1/crl/root"];
    const statuses = await Promise.all(paths.map(async (p) => (await fetch(`${edge}${p}`)).status));
    return Object.fromEntries(paths.map((p, i) => [p, statuses[i]!]));
  }

  const served = { "/v1/ca": 200, "/v1/ca/default": 200, "/v1/crl": 200, "/v1/crl/default": 200, "/v1/crl/root": 200 };

  it("on a fresh data dir and on a restart, the CA chain and the CRL are there as soon as both /healthz answer", async () => {
    const fx = systemFixture();
    const [originPort, edgePort] = [await freePort(), await freePort()];
    const origin = `http://127.0.0.1:${originPort}`;
    const edge = `http://127.0.0.1:${edgePort}`;
    try {
      for (const run of ["fresh", "restart"]) {
        const sys = start(fx.dir, originPort, edgePort, fx.adminKey);
        try {
          await waitBothHealthy(origin, edge, sys);
          expect({ run, ...(await pkiStatuses(edge)) }).toEqual({ run, ...served });
          // The chain is the operator tenant's issuing CA and the root, as the origin has them.
          const chain = await (await fetch(`${edge}/v1/ca`, { headers: { accept: "application/pem-certificate-chain" } })).text();
          expect(chain.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
        } finally {
          await sys.stop();
        }
      }
    } finally {
      fx.cleanup();
    }
  }, 400_000);

  it("a second fresh data dir: the same", async () => {
    const fx = systemFixture();
    const [originPort, edgePort] = [await freePort(), await freePort()];
    const sys = start(fx.dir, originPort, edgePort, fx.adminKey);
    try {
      await waitBothHealthy(`http://127.0.0.1:${originPort}`, `http://127.0.0.1:${edgePort}`, sys);
      expect(await pkiStatuses(`http://127.0.0.1:${edgePort}`)).toEqual(served);
    } finally {
      await sys.stop();
      fx.cleanup();
    }
  }, 300_000);
});
