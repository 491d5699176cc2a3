import { afterAll, describe, expect, it } from "vitest";
import { createS3Admin, S3_MISSING, s3EnvFromProcess } from "../support/s3-admin.ts";
import { pollUntil } from "../support/system.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";
import { archivingOrigin, burst, checkArchive, logSize, tenantOf, waitArchived, type ArchivingOrigin } from "./archive-drill.ts";
import { reportFault } from "./support.ts";

/**
 * Fault: S3 (Ceph RGW) becomes unreachable while the origin is archiving (connections reset,
 * in-flight uploads cut), and writes keep coming. The API answers throughout; once S3 is back the
 * archive resumes by itself with no gap and no duplicate object, and the WORM objects verify
 * (lock, content hash, hash chain, Merkle root = the signed tree head).
 */
const S3 = s3EnvFromProcess();
let proxy: TcpProxy | undefined;
let o: ArchivingOrigin | undefined;
afterAll(async () => {
  await o?.stop();
  await proxy?.close();
});

describe.runIf(!S3 && process.env.CI === "true")("S3 down during archive (CI)", () => {
  it("has a real S3 server", () => {
    throw new Error(S3_MISSING);
  });
});

it.skipIf(!S3)(
  "S3 down during archive: every acknowledged write archived exactly once after S3 returns",
  async () => {
    const s3 = createS3Admin(S3!);
    const target = new URL(S3!.endpoint);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 80) });
    o = await archivingOrigin(S3!, proxy.url);
    const tenant = await tenantOf(o);
    const before = await burst(o, 7);
    expect(before.failed).toBe(0);
    await waitArchived(s3, o, tenant, await logSize(o), 60_000);

    // S3 goes down in the middle of a burst, while the archiver is sealing and uploading it.
    const live: string[] = [];
    const during = burst(o, 24, live);
    await pollUntil(async () => (live.length >= 6 ? true : undefined), 20_000, 5);
    proxy.setDown(true);
    const duringResult = await during;
    expect(duringResult.failed).toBe(0); // the API does not depend on S3
    await new Promise((r) => setTimeout(r, 4000));
    expect((await o.api("GET", "/healthz")).status).toBe(200);
    expect(proxy.refused()).toBeGreaterThan(0); // the archiver really tried during the outage

    proxy.setDown(false);
    const n = await logSize(o);
    const recoveryMs = await waitArchived(s3, o, tenant, n, 120_000);
    const check = await checkArchive(s3, o, tenant);
    const acked = [...before.acked, ...duringResult.acked];
    const stored = acked.filter((id) => check.agentsCreated.has(id)).length;
    reportFault({
      fault: "S3 (Ceph RGW) down during archive",
      acknowledged: acked.length,
      stored,
      duplicates: check.duplicates,
      recoveryMs,
      note: `${check.entries} entries, ${check.gaps} gaps; WORM objects ${check.problems.length ? "FAIL" : "verify"}; recovery from S3 back`,
    });
    expect(check.problems).toEqual([]);
    expect(check.gaps).toBe(0);
    expect(check.duplicates).toBe(0);
    expect(check.entries).toBe(n);
    expect(stored).toBe(acked.length);
  },
  240_000,
);
