import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { count, eq, isNull, min, sql } from "drizzle-orm";
import { rowsOfResult } from "./db/index.ts";
import { authorities, outbox } from "./db/schema.ts";
import type { Services } from "./services.ts";

export interface CheckResult {
  ok: boolean;
  /** Why it failed (or what it measured); never a stack. */
  detail?: string;
  ms: number;
}

export type ReadinessChecks = Record<"database" | "key_manager" | "publish_lag" | "background", CheckResult>;

/** Each check gets this long; a hung dependency fails its check instead of hanging /readyz. */
export const CHECK_TIMEOUT_MS = 2000;

async function timed(run: () => Promise<string | undefined>, now: () => number): Promise<CheckResult> {
  const t0 = now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    const detail = await Promise.race([run(), timeout]);
    return { ok: true, ...(detail ? { detail } : {}), ms: Math.round(now() - t0) };
  } catch (e) {
    return { ok: false, detail: e instanceof Error ? e.message.split("\n")[0]! : String(e), ms: Math.round(now() - t0) };
  } finally {
    clearTimeout(timer);
  }
}

const PROBE_FILE = ".kakunin-ready-probe";

/** Creates, syncs and removes a small file in `dir`: fails on a read-only, full or unwritable directory. */
async function probeWritable(dir: string): Promise<void> {
  const file = join(dir, PROBE_FILE);
  try {
    const fh = await open(file, "w", 0o600);
    try {
      await fh.writeFile("ready\n");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rm(file, { force: true });
  } catch (e) {
    const code = typeof e === "object" && e && "code" in e ? String(e.code) : "";
    const why =
      code === "EROFS"
        ? "the filesystem is read-only"
        : code === "ENOSPC"
          ? "the disk is full"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied"
            : code || String(e);
    throw new Error(`the embedded database's directory is not writable (${why}): writes would fail`);
  }
}

/** How long one key manager probe answers every /readyz call that arrives (while it runs, and, when it succeeded, this long after it started). */
export const KEY_MANAGER_PROBE_SHARED_MS = 1000;

type Probe = { startedAt: number; state: "running" | "ok" | "failed"; result: Promise<string> };
const probes = new WeakMap<Services, Probe>();

/**
 * The key manager answers for the root CA key: one real round trip, shared by the calls that
 * arrive while it runs or, when it succeeded, within KEY_MANAGER_PROBE_SHARED_MS of its start.
 * /readyz is public, and a probe per call let anyone set the rate of calls to the KMS or HSM: on
 * PKCS#11 they queue on the sessions that certify, sign and revocations' OCSP and CRL signatures
 * use; against a hung KMS each call left one more request outstanding (now one per CHECK_TIMEOUT_MS).
 * A failure is not reused once settled: the next call asks again, so a recovery shows at once.
 */
function sharedKeyManagerProbe(s: Services): Promise<string> {
  const now = performance.now();
  const last = probes.get(s);
  const age = last ? now - last.startedAt : Infinity;
  // A probe that hangs past the check's own timeout is left to its deadline and a new one starts,
  // so a recovered key manager shows within CHECK_TIMEOUT_MS: at most one new probe per timeout.
  if (last && ((last.state === "running" && age < CHECK_TIMEOUT_MS) || (last.state === "ok" && age < KEY_MANAGER_PROBE_SHARED_MS))) return last.result;
  const probe: Probe = {
    startedAt: now,
    state: "running",
    result: (async () => {
      const [root] = await s.db.select({ ref: authorities.keyRef }).from(authorities).where(eq(authorities.kind, "root"));
      if (!root) throw new Error("no root CA yet (the key manager has never created one)");
      const r = await s.keys.getPublicKey(root.ref);
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
      return s.keys.kind;
    })(),
  };
  // Either way; the rejection is each caller's to report (timed), never unhandled.
  probe.result.then(
    () => (probe.state = "ok"),
    () => (probe.state = "failed"),
  );
  probes.set(s, probe);
  return probe.result;
}

/**
 * What `/readyz` checks, concurrently, each under CHECK_TIMEOUT_MS: the database answers and can
 * take writes (not a standby, not read-only; an embedded PGlite's directory writable); the key
 * manager answers for the root CA key (a real round trip to the KMS or HSM, shared by the calls of
 * about a second: sharedKeyManagerProbe); and the oldest
 * unpublished change in the outbox is younger than KAKUNIN_READY_MAX_PUBLISH_LAG_S (the edge is
 * learning of revocations; upkeep rows are reported in the detail, not judged). With publishing
 * off the lag check reports so and passes. `background` names the background jobs that keep
 * failing (archive, webhooks, …) but never fails readiness: their work waits in the database and
 * another origin would fail the same way, so taking this one out of rotation helps nobody. What would (the database refusing writes) fails `database` instead.
 */
export async function readiness(s: Services): Promise<ReadinessChecks> {
  const perf = () => performance.now();
  const [database, keyManager, publishLag] = await Promise.all([
    timed(async () => {
      // Answering is not enough: after a failover to a standby, or with default_transaction_read_only
      // on, every read works and every write fails. Ready means this origin can commit.
      const [row] = rowsOfResult<{ ro: string; recovery: boolean }>(
        await s.db.execute(sql`select current_setting('transaction_read_only') as ro, pg_is_in_recovery() as recovery`),
      );
      if (row?.ro === "on" || row?.recovery === true)
        throw new Error("the database is read-only (a standby, or transactions read-only by default): writes would fail");
      // PGlite answers reads from files it already has open and says nothing about its directory
      // until a write needs a file: ask the filesystem itself.
      if (s.storageDir) await probeWritable(s.storageDir);
      const fault = s.storageFaults.current();
      if (fault) throw new Error(fault);
      return undefined;
    }, perf),
    timed(() => sharedKeyManagerProbe(s), perf),
    timed(async () => {
      if (s.config.KAKUNIN_PUBLISH === "off") return "publishing is off";
      // Changes only: upkeep (OCSP/CRL refresh, a resync) is published after them and may take a
      // while behind a slow KMS; it is reported, and a change stuck behind nothing fails the check.
      // One pass over the pending rows, per lane: how many, and since when (as the metrics read it).
      const lanes = await s.db
        .select({ background: outbox.background, n: count(), oldest: min(outbox.createdAt) })
        .from(outbox)
        .where(isNull(outbox.deliveredAt))
        .groupBy(outbox.background);
      const ageS = (at: Date | null | undefined) => (at ? Math.max(0, Math.round((s.clock.now().getTime() - new Date(at).getTime()) / 1000)) : 0);
      const lagS = ageS(lanes.find((l) => !l.background)?.oldest);
      const max = s.config.KAKUNIN_READY_MAX_PUBLISH_LAG_S;
      if (lagS > max) throw new Error(`oldest unpublished change is ${lagS} s old (limit ${max} s): the edge is not receiving status updates`);
      const upkeep = lanes.find((l) => l.background);
      if (!upkeep) return `${lagS} s`;
      return `${lagS} s (upkeep: ${upkeep.n} pending, oldest ${ageS(upkeep.oldest)} s)`;
    }, perf),
  ]);
  return { database, key_manager: keyManager, publish_lag: publishLag, background: backgroundCheck(s) };
}

/** Ready with a detail: which background jobs keep failing, since when, and why. */
function backgroundCheck(s: Services): CheckResult {
  const failing = s.background.failing();
  if (failing.length === 0) return { ok: true, ms: 0 };
  const detail = failing
    .map(([name, st]) => {
      const since = st.failingSince === undefined ? "" : ` since ${new Date(st.failingSince).toISOString()}`;
      const last = st.lastSuccessAt === undefined ? "never succeeded" : `last success ${new Date(st.lastSuccessAt).toISOString()}`;
      return `${name}: ${st.consecutiveFailures} failures in a row${since}, ${last} (${st.lastError ?? "no message"})`;
    })
    .join("; ");
  return { ok: true, detail, ms: 0 };
}
