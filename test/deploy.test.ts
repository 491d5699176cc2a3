import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "./support/system.ts";

// deploy/Dockerfile's build steps, run without Docker (deploy/check-image-build.sh): the folder the
// image would contain holds compiled JS and production dependencies only, and starts.
const ROOT = resolve(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "kakunin-image-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("origin image build context", () => {
  it("builds a production-only folder that serves /healthz with `node dist/main.js`", async () => {
    const out = execFileSync("bash", [join(ROOT, "deploy/check-image-build.sh"), work], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 }).trim().split("\n").pop()!;
    expect(existsSync(join(out, "dist/main.js"))).toBe(true);
    const deps = readdirSync(join(out, "node_modules"));
    for (const dev of ["tsx", "drizzle-kit", "vitest", "typescript", "@types"]) expect(deps).not.toContain(dev);
    const port = await freePort();
    const { spawn } = await import("node:child_process");
    const proc = spawn(process.execPath, ["dist/main.js"], {
      cwd: out, stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH, KAKUNIN_DATA_DIR: join(work, "data"), KAKUNIN_ORIGIN_PORT: String(port), KAKUNIN_PUBLISH: "off" },
    });
    let log = "";
    proc.stdout.on("data", (c: Buffer) => { log += c.toString(); });
    proc.stderr.on("data", (c: Buffer) => { log += c.toString(); });
    try {
      let status = 0;
      for (let i = 0; i < 300 && status !== 200 && proc.exitCode === null; i++) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status, log).toBe(200);
    } finally {
      proc.kill("SIGKILL");
    }
  }, 360_000);
});
