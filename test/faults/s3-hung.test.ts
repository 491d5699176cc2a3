import { afterAll, describe, expect, it } from "vitest";
import { createS3Admin, S3_MISSING, s3EnvFromProcess } from "../support/s3-admin.ts";
import { pollUntil } from "../support/system.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";
import { archivingOrigin, burst, checkArchive, logSize, tenantOf, waitArchived, type ArchivingOrigin } from "./archive-drill.ts";
import { reportFault } from "./support.ts";

/**
 * Fault: S3 (Ceph RGW) stops answering, connections accepted and never served (a blackholed
 * network, a full OSD), while writes and tree-head reads keep coming. Unlike `s3-down` (connections
 * reset at once), every request now costs the client its whole timeout (10 s). The archiver must
 * notice the outage within one request, say so (log line, /readyz's background check) and back off,
 * not spend a timeout on every pending batch and signed tree head before it tells anyone; once S3
 * answers again the archive resumes by itself with no gap and no duplicate.
 */
const S3 = s3EnvFromProcess();
let proxy: TcpProxy | undefined;
let o: ArchivingOrigin | undefined;
afterAll(async () => {
  await o?.stop();
  await proxy?.close();
});

describe.runIf(!S3 && process.env.CI === "true")("S3 hung during archive (CI)", () => {
  it("has a real S3 server", () => {
    throw new Error(S3_MISSING);
  });
});

const archiverFailures = (log: string): number =>
  log.split("\n").filter((l) => l.includes('"component":"archiver"') && l.includes('"event":"pass_failed"')).length;

it.skipIf(!S3)(
  "S3 hung: the archiver reports the outage after one timed-out request, backs off, and catches up when S3 answers",
  async () => {
    const s3 = createS3Admin(S3!);
    const target = new URL(S3!.endpoint);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 80) });
    o = await archivingOrigin(S3!, proxy.url);
    const tenant = await tenantOf(o);
    const before = await burst(o, 7);
    expect(before.failed).toBe(0);
    await waitArchived(s3, o, tenant, await logSize(o), 60_000);

    // S3 hangs. Writes go on, and every tree-head read after one signs a new head: a batch and
    // eight signed tree heads wait for the store.
    proxy.setHung(true);
    const during: string[] = [];
    for (let i = 0; i < 8; i++) {
      expect((await burst(o, 1, during)).failed).toBe(0); // the API does not depend on S3
      await logSize(o);
    }
    expect(during).toHaveLength(8);

    // The first failed pass is logged once the archiver met the hung store.
    await pollUntil(async () => (archiverFailures(o!.proc().log()) > 0 ? true : undefined), 240_000, 100).catch((e: unknown) => {
      throw new Error(`no failed archive pass logged: ${String(e)}; ${proxy!.hungRequests()} request(s) into the hung store\n${o!.proc().log().slice(-4000)}`);
    });
    const line = o
      .proc()
      .log()
      .split("\n")
      .find((l) => l.includes('"event":"pass_failed"') && l.includes('"component":"archiver"'))!;
    expect(line).toMatch(/unavailable: S3 (HEAD|GET|PUT) /); // a timeout, or the reset of a request in flight when S3 hung

    // Three failed passes in a row: /readyz names the archive job (still ready: the entries wait in
    // the database). Each pass cost one timed-out request for the batches and one for the tree heads
    // (a fourth pass may have begun): not one per pending batch and per signed head, which held the
    // first pass alone for (1 + 8 heads and more) x 10 s before it reported anything.
    const ready = await pollUntil(
      async () => {
        const r = await o!.api("GET", "/readyz");
        const body = (await r.json()) as { checks?: { background?: { detail?: string } } };
        return body.checks?.background?.detail?.includes("archive") ? body : undefined;
      },
      240_000,
      500,
    );
    expect(ready.value.checks?.background?.detail).toMatch(/archive: \d+ failures in a row since .*unavailable: S3 HEAD .*no answer within 10000 ms/);
    const tried = proxy.hungRequests();
    const archiverLog = o
      .proc()
      .log()
      .split("\n")
      .filter((l) => l.includes('"component":"archiver"'))
      .join("\n");
    expect(tried, `requests the archiver sent into the hung store in its first three failed passes: ${tried}\n${archiverLog}`).toBeLessThanOrEqual(8);

    proxy.setHung(false);
    const n = await logSize(o);
    const recoveryMs = await waitArchived(s3, o, tenant, n, 180_000);
    // The signed tree heads queued meanwhile reach the store as well.
    await pollUntil(
      async () => {
        const text = await (await o!.api("GET", "/metrics")).text();
        return /^kakunin_archive_pending_tree_heads 0$/m.test(text) ? true : undefined;
      },
      120_000,
      500,
    );
    const check = await checkArchive(s3, o, tenant);
    const acked = [...before.acked, ...during];
    const stored = acked.filter((id) => check.agentsCreated.has(id)).length;
    reportFault({
      fault: "S3 (Ceph RGW) hung (accepts, never answers)",
      acknowledged: acked.length,
      stored,
      duplicates: check.duplicates,
      recoveryMs,
      note: `${tried} request(s) into the hung store in 3 failed passes; ${check.gaps} gaps; WORM objects ${check.problems.length ? "FAIL" : "verify"}`,
    });
    expect(check.problems).toEqual([]);
    expect(check.gaps).toBe(0);
    expect(check.duplicates).toBe(0);
    expect(check.entries).toBe(n);
    expect(stored).toBe(acked.length);
  },
  600_000,
);

it.skipIf(!S3)(
  "SIGTERM while the archiver waits on a hung S3: the origin stops within its grace and exits 0",
  async () => {
    const p2 = await startTcpProxy({ host: new URL(S3!.endpoint).hostname, port: Number(new URL(S3!.endpoint).port || 80) });
    const a = await archivingOrigin(S3!, p2.url);
    try {
      await burst(a, 3);
      await logSize(a);
      // S3 hangs with a batch and signed tree heads waiting: the pass is held by a batch's upload.
      p2.setHung(true);
      for (let i = 0; i < 3; i++) {
        await burst(a, 1);
        await logSize(a);
      }
      await pollUntil(async () => (p2.hungRequestLines().some((l) => l.includes(".jsonl")) ? true : undefined), 60_000, 50);
      const proc = a.proc();
      const exited = pollUntil(async () => (/"event":"(stopped|shutdown_timed_out)"/.test(proc.log()) ? true : undefined), 60_000, 100);
      process.kill(-proc.pid!, "SIGTERM");
      await exited;
      const log = proc.log();
      // Before: the pass went on to the queued tree heads after the batch's 10 s timeout, past the 12 s grace.
      expect(log).not.toContain('"event":"shutdown_timed_out"');
      expect(log).toContain('"event":"stopped"');
      expect(p2.hungRequestLines().filter((l) => l.includes("/tree-heads/"))).toEqual([]);
    } finally {
      await a.stop();
      await p2.close();
    }
  },
  180_000,
);
