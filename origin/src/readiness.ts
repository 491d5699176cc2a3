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

/**
 * What `/readyz` checks, concurrently, each under CHECK_TIMEOUT_MS: the database answers and can
 * take writes (not a standby, not read-only; an embedded PGlite's directory writable); the key
 * manager answers for the root CA key (a real round trip to the KMS or HSM); and the oldest
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
    timed(async () => {
      const [root] = await s.db.select({ ref: authorities.keyRef }).from(authorities).where(eq(authorities.kind, "root"));
      if (!root) throw new Error("no root CA yet (the key manager has never created one)");
      const r = await s.keys.getPublicKey(root.ref);
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
      return s.keys.kind;
    }, perf),
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
