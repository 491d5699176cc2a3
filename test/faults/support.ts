import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { agentBody } from "../../origin/test/harness.ts";
import { freePort, pollUntil } from "../support/system.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** One line of the table printed at the end of the run (see table.ts). */
export interface FaultRow {
  fault: string;
  /** Operations the system acknowledged (2xx) during the fault drill. */
  acknowledged: number;
  /** Of those, how many are found afterwards where they must be (edge / database / archive). */
  stored: number;
  duplicates: number;
  /** From the end of the fault to the moment everything acknowledged was where it must be. */
  recoveryMs: number;
  note?: string;
}

export function reportFault(row: FaultRow): void {
  const file = process.env.KAKUNIN_FAULTS_REPORT;
  if (file) appendFileSync(file, JSON.stringify(row) + "\n");
}

/** A PostgreSQL cluster of a test's own (scripts/pg-up.sh), which the test may stop and start. */
export interface OwnPostgres {
  url: string;
  /** The cluster's directory (its data directory is `${dir}/data`). */
  dir: string;
  stop(): void;
  start(): void;
  /** SIGSTOP the postmaster and every process it forked: a hung server (sockets open, nothing answers). */
  freeze(): void;
  /** SIGCONT whatever freeze() stopped (a no-op when nothing is frozen). */
  resume(): void;
  destroy(): void;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

export async function ownPostgres(): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-fault-pg-"));
  const port = await freePort();
  const up = () => execFileSync("bash", [join(ROOT, "scripts/pg-up.sh"), dir, String(port)], { encoding: "utf8" });
  up();
  const ctl = (...args: string[]) => {
    const bin = execFileSync("bash", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"], { encoding: "utf8" }).trim();
    const cmd = `'${bin}/pg_ctl' -D '${dir}/data' ${args.join(" ")}`;
    if (process.getuid?.() === 0) execFileSync("su", ["postgres", "-s", "/bin/bash", "-c", cmd], { stdio: "ignore" });
    else execFileSync("bash", ["-c", cmd], { stdio: "ignore" });
  };
  let frozen: number[] = [];
  const resume = () => {
    for (const pid of frozen) signal(pid, "SIGCONT");
    frozen = [];
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    stop: () => ctl("-m", "fast", "-w", "stop"),
    start: () => void up(),
    freeze: () => {
      const postmaster = Number(readFileSync(`${dir}/data/postmaster.pid`, "utf8").split("\n")[0]);
      const children = execFileSync("bash", ["-c", `pgrep -P ${postmaster} || true`], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean)
        .map(Number);
      frozen = [postmaster, ...children];
      for (const pid of frozen) signal(pid, "SIGSTOP");
    },
    resume,
    destroy: () => void execFileSync("bash", [join(ROOT, "scripts/pg-down.sh"), dir], { stdio: "ignore" }),
  };
}

/** What the drills read from origin answers (loosely typed; each drill checks what it uses). */
export interface ApiBody {
  data: { id: string; serial_number: string; token: string; status: string; event_id: string }[] & { id: string; serial_number: string; token: string; status: string };
  next_cursor?: string | null;
  detail?: string;
  type?: string;
}

/** The admin API of an origin and the public API of an edge, as the drills use them. */
export function apis(originUrl: () => string, edgeUrl: () => string, adminKey: string) {
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: ApiBody }> => {
    try {
      const r = await fetch(`${originUrl()}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(20_000),
      });
      const text = await r.text();
      return { status: r.status, body: (text ? JSON.parse(text) : {}) as ApiBody };
    } catch (e) {
      return { status: 0, body: { detail: String(e) } as ApiBody };
    }
  };
  const edgeStatus = async (serial: string): Promise<string | undefined> => {
    try {
      // The default (KV) read, what gateways see. Not `?consistency=strong`: the edge allows each
      // client 20 strong reads per 10 s (wrangler.toml STRONG_READS), so polling 60+ serials with
      // them measures the rate limit, not the system (two-origins timed out on it).
      const r = await fetch(`${edgeUrl()}/v1/verify/${serial}`, { signal: AbortSignal.timeout(5000) });
      if (r.status !== 200) return undefined;
      return ((await r.json()) as { data: { status: string } }).data.status;
    } catch {
      return undefined;
    }
  };
  const certified = async (): Promise<{ agent: string; cert: string; serial: string } | undefined> => {
    const a = await api("POST", "/v1/agents", agentBody());
    if (a.status !== 201) return undefined;
    const c = await api("POST", `/v1/agents/${a.body.data.id}/certify`);
    if (c.status !== 201) return undefined;
    return { agent: a.body.data.id, cert: c.body.data.id, serial: c.body.data.serial_number };
  };
  /** Waits until the edge holds `want` for every serial; returns the time it took. */
  const edgeHolds = async (serials: string[], want: string, timeoutMs: number): Promise<number> => {
    const t0 = performance.now();
    const left = new Set(serials);
    await pollUntil(async () => {
      for (const s of [...left]) if ((await edgeStatus(s)) === want) left.delete(s);
      return left.size === 0 ? true : undefined;
    }, timeoutMs, 100).catch(() => undefined);
    if (left.size) throw new Error(`edge still does not hold ${want} for ${left.size} of ${serials.length} serial(s), e.g. ${[...left][0]}`);
    return performance.now() - t0;
  };
  return { api, edgeStatus, certified, edgeHolds };
}
