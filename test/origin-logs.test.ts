import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startOrigin, systemFixture, type Proc } from "./support/system.ts";

type Line = Record<string, unknown>;

/** What an on-call engineer pipes into jq: every line the process wrote, parsed, or the line that is not JSON. */
function parse(out: string): Array<Line | string> {
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      try {
        const v: unknown = JSON.parse(l);
        return v && typeof v === "object" && !Array.isArray(v) ? (v as Line) : l;
      } catch {
        return l;
      }
    });
}

function hasJq(): boolean {
  try {
    execFileSync("jq", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

// The real origin process, with the background jobs failing as at 3 a.m. (edge unreachable, archive
// unwritable), an admin key rotated by config and a request: every line it writes, on stdout and
// stderr, is one JSON object of the same shape, so `jq` over the log works for all of them.
describe("the origin's log output", () => {
  const fx = systemFixture();
  let origin: Proc | undefined;
  let out = "";
  beforeAll(async () => {
    const deadPort = await freePort();
    const env = {
      KAKUNIN_LOG_LEVEL: "info",
      // Nothing listens there: the publisher fails and retries.
      KAKUNIN_EDGE_URL: `http://127.0.0.1:${deadPort}`,
      // A file where the archive directory should be: the archiver cannot prepare or upload.
      KAKUNIN_ARCHIVE_DIR: join(fx.dir, "archive-is-a-file", "nested"),
      KAKUNIN_ARCHIVE_MAX_AGE_S: "1",
    };
    // First start with one admin key, then with another: the rotation is logged too.
    const first = await startOrigin({ dataDir: fx.dir, edgeUrl: env.KAKUNIN_EDGE_URL, secret: fx.secret, adminKey: `${fx.adminKey}-old`, env });
    await first.stop();
    // A file where the directory should be (the first start may already have made the directory).
    execFileSync("sh", ["-c", `rm -rf '${join(fx.dir, "archive-is-a-file")}' && printf x > '${join(fx.dir, "archive-is-a-file")}'`]);
    origin = await startOrigin({ dataDir: fx.dir, edgeUrl: env.KAKUNIN_EDGE_URL, secret: fx.secret, adminKey: fx.adminKey, env });
    const res = await fetch(`${origin.url}/v1/agents`, {
      method: "POST",
      headers: { authorization: `Bearer ${fx.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "log-agent",
        model: { name: "m", version: "1", hash: `sha256:${"ab".repeat(32)}` },
        owner: { name: "O", email: "o@example.com" },
        scopes: ["x.*"],
      }),
    });
    expect(res.status).toBe(201);
    // Long enough for a publish attempt, an archive seal and its failed upload.
    await new Promise((r) => setTimeout(r, 4000));
    await origin.stop();
    out = origin.log();
  }, 120_000);
  afterAll(async () => {
    await origin?.stop();
    fx.cleanup();
    rmSync(join(fx.dir, "archive-is-a-file"), { force: true });
  });

  it("is one JSON object per line, each with level, time, msg and component, and no stack trace", () => {
    const lines = parse(out);
    expect(lines.length).toBeGreaterThan(3);
    const notJson = lines.filter((l) => typeof l === "string");
    expect(notJson, "lines that are not one JSON object").toEqual([]);
    for (const l of lines as Line[]) {
      expect(["debug", "info", "warn", "error"], JSON.stringify(l)).toContain(l.level);
      expect(typeof l.time, JSON.stringify(l)).toBe("string");
      expect(typeof l.msg, JSON.stringify(l)).toBe("string");
      expect(typeof l.component, JSON.stringify(l)).toBe("string");
    }
    expect(out).not.toMatch(/\n\s+at /);
    expect(out).not.toMatch(/\\n\s+at /);
    expect(out).not.toContain(fx.adminKey);
  });

  it("names the failing background job and its error in fields the runbook's jq recipes select on", () => {
    const lines = parse(out).filter((l): l is Line => typeof l !== "string");
    const publisher = lines.filter((l) => l.component === "publisher");
    expect(publisher.length, out).toBeGreaterThan(0);
    expect(publisher[0]).toMatchObject({ level: "warn" });
    expect(typeof publisher[0]!.error).toBe("string");
    const archiver = lines.filter((l) => l.component === "archiver");
    expect(archiver.length, out).toBeGreaterThan(0);
    expect(typeof archiver[0]!.error).toBe("string");
    expect(lines.some((l) => l.component === "bootstrap" && l.event === "bootstrap_admin_key_replaced")).toBe(true);
    expect(lines.some((l) => l.component === "http" && l.msg === "request" && l.route === "/v1/agents")).toBe(true);
    expect(lines.some((l) => l.msg === "listening")).toBe(true);
  });

  it.skipIf(!hasJq())("works with every jq command in the runbook", () => {
    const run = (filter: string) => execFileSync("jq", ["-c", filter], { input: out }).toString().trim().split("\n").filter(Boolean);
    const runbook = readFileSync(join(import.meta.dirname, "../docs/operations.md"), "utf8");
    const filters = [...runbook.matchAll(/jq -c '([^']+)'/g)].map((m) => m[1]!.replace(/<[^>]+>/g, "x"));
    expect(filters.length).toBeGreaterThan(4);
    for (const f of filters) expect(() => run(f), f).not.toThrow();
    // The ones an on-call engineer reaches for first find the failing jobs.
    expect(run('select(.component=="publisher") | {time, event, error, attempt}').length).toBeGreaterThan(0);
    expect(run('select(.component=="archiver") | {time, event, error}').length).toBeGreaterThan(0);
    expect(run('select(.level=="warn" or .level=="error") | {time, component, event, error}').length).toBeGreaterThan(0);
  });
});
