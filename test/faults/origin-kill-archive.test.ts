import { afterAll, describe, expect, it } from "vitest";
import { createS3Admin, S3_MISSING, s3EnvFromProcess } from "../support/s3-admin.ts";
import { pollUntil } from "../support/system.ts";
import { archivingOrigin, burst, checkArchive, logSize, tenantOf, waitArchived, type ArchivingOrigin } from "./archive-drill.ts";
import { reportFault } from "./support.ts";

/**
 * Fault: the origin is killed with SIGKILL while it archives: right after an upload of a new batch
 * became visible (the rest of the pass still uploading), and in the middle of a burst of writes.
 * After each restart the archive resumes where it stopped: no gap, no duplicate object, every
 * acknowledged write archived, and the WORM objects verify.
 */
const S3 = s3EnvFromProcess();
let o: ArchivingOrigin | undefined;
afterAll(async () => {
  await o?.stop();
});

describe.runIf(!S3 && process.env.CI === "true")("origin kill -9 during archive (CI)", () => {
  it("has a real S3 server", () => {
    throw new Error(S3_MISSING);
  });
});

it.skipIf(!S3)(
  "origin killed -9 during archive: archive resumes with no gap and no duplicate",
  async () => {
    const s3 = createS3Admin(S3!);
    o = await archivingOrigin(S3!, S3!.endpoint);
    const tenant = await tenantOf(o);
    const objects = async () => (await s3.listVersions(o!.bucket, `audit/${tenant}/`)).versions.length;
    const acked: string[] = [];
    let cutOff = 0;
    let lastRestart = 0;
    for (const mode of ["first-new-object", "mid-burst", "first-new-object", "mid-burst"] as const) {
      const before = await objects();
      const live: string[] = [];
      const writes = burst(o, 14, live);
      if (mode === "mid-burst") await pollUntil(async () => (live.length >= 5 ? true : undefined), 20_000, 2);
      else {
        await writes;
        // Kill as soon as this burst's first object is visible: the pass is still uploading the others.
        await pollUntil(async () => ((await objects()) > before ? true : undefined), 30_000, 10);
      }
      await o.kill9();
      const w = await writes;
      acked.push(...w.acked);
      cutOff += w.failed;
      lastRestart = performance.now();
      await o.restart();
    }
    const n = await logSize(o);
    await waitArchived(s3, o, tenant, n, 120_000);
    const recoveryMs = performance.now() - lastRestart;
    const check = await checkArchive(s3, o, tenant);
    const stored = acked.filter((id) => check.agentsCreated.has(id)).length;
    reportFault({
      fault: "origin kill -9 during archive (4 kills)",
      acknowledged: acked.length,
      stored,
      duplicates: check.duplicates,
      recoveryMs,
      note: `${check.entries} entries, ${check.gaps} gaps, ${cutOff} writes cut off unacknowledged; WORM objects ${check.problems.length ? "FAIL" : "verify"}; recovery incl. restart`,
    });
    expect(check.problems).toEqual([]);
    expect(check.gaps).toBe(0);
    expect(check.duplicates).toBe(0);
    expect(check.entries).toBe(n);
    expect(stored).toBe(acked.length);
  },
  300_000,
);
