import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { kakunin } from "../cli/test/support/run.ts";
import { ARCHIVE_BATCH, archivingOrigin, burst, logSize, tenantOf, waitArchived, type ArchivingOrigin } from "./faults/archive-drill.ts";
import { createS3Admin, S3_MISSING, s3EnvFromProcess, type S3Admin } from "./support/s3-admin.ts";

/**
 * The compliance officer's check on a real S3 with Object Lock (Ceph RGW): the archive a real
 * origin wrote, downloaded as `aws s3 cp --recursive` would (the latest version of each key, keys
 * whose latest is a delete marker left out), verifies with `kakunin audit check-archive`; after
 * someone holding the bucket's keys puts a forged version on top of a locked batch (COMPLIANCE
 * forbids deleting the original, not adding a version) or hides one behind a delete marker, it
 * fails. Before, nothing in the product could tell.
 */
const S3 = s3EnvFromProcess();
if (!S3 && process.env.CI === "true") {
  describe("archive check e2e (CI)", () => {
    it("has a real S3 server to test against", () => {
      throw new Error(S3_MISSING);
    });
  });
} else if (!S3) {
  console.warn(`archive-check.e2e.test.ts: skipping: ${S3_MISSING}`);
}

const md5b64 = (s: string): string => createHash("md5").update(s).digest("base64");

describe.skipIf(!S3)("kakunin audit check-archive on an archive in S3 Object Lock (real origin, Ceph RGW)", () => {
  const work = mkdtempSync(join(tmpdir(), "kakunin-archive-check-"));
  let o: ArchivingOrigin | null = null;
  afterAll(async () => {
    await o?.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const s3 = (): S3Admin => createS3Admin(S3!);

  /** The tenant's prefix as `aws s3 cp --recursive` downloads it: latest versions only. */
  async function download(bucket: string, tenant: string, name: string): Promise<string> {
    const dir = join(work, name);
    const prefix = `audit/${tenant}/`;
    const listing = await s3().listVersions(bucket, prefix);
    for (const v of listing.versions.filter((x) => x.isLatest)) {
      const file = join(dir, v.key.slice(prefix.length));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, await s3().getText(bucket, v.key));
    }
    return dir;
  }

  it("verifies the archive as written; fails once a locked batch is replaced by a new version or hidden by a delete marker", async () => {
    o = await archivingOrigin(S3!, S3!.endpoint);
    const tenant = await tenantOf(o);
    expect((await burst(o, 3 * ARCHIVE_BATCH)).failed).toBe(0);
    // A signed head at the current size, then everything up to it archived.
    const size = await logSize(o);
    await waitArchived(s3(), o, tenant, size, 60_000);
    const chain = ((await (await o.api("GET", "/v1/ca")).json()) as { data: { chain_pem: string } }).data.chain_pem;
    const chainFile = join(work, "chain.pem");
    const rootFile = join(work, "root.pem");
    writeFileSync(chainFile, chain);
    writeFileSync(rootFile, chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.at(-1)!);
    const check = (dir: string) =>
      kakunin({ KAKUNIN_CONFIG: join(work, "none.json") }, "audit", "check-archive", dir, "--chain", chainFile, "--root", rootFile, "--max-lag", "0");
    // Heads are archived in the same pass as the batches, possibly a pass later.
    let ok = await check(await download(o.bucket, tenant, "as-written"));
    for (let i = 0; i < 20 && ok.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      ok = await check(await download(o.bucket, tenant, `as-written-${i}`));
    }
    expect(ok.stdout).toContain("VERIFIED");
    expect(ok.code).toBe(0);

    const keys = (await s3().listVersions(o.bucket, `audit/${tenant}/`)).versions
      .map((v) => v.key)
      .filter((k) => k.endsWith(".jsonl"))
      .sort();
    expect(keys.length).toBeGreaterThanOrEqual(3);
    // An insider with the archive's keys stacks a forged, itself COMPLIANCE-locked, version on a batch.
    const victim = keys[1]!;
    const original = await s3().getText(o.bucket, victim);
    const forged = original.replace(/archive-fault-\d+/, "nobody");
    expect(forged).not.toBe(original);
    const until = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const put = await s3().request(
      "PUT",
      `/${o.bucket}/${victim}`,
      {
        "x-amz-object-lock-mode": "COMPLIANCE",
        "x-amz-object-lock-retain-until-date": until,
        "content-md5": md5b64(forged),
      },
      forged,
    );
    expect(put.status).toBe(200);
    const replaced = await check(await download(o.bucket, tenant, "replaced"));
    expect(replaced.code).toBe(1);
    expect(replaced.stdout).toMatch(/do not reproduce its signed root|prev does not chain/);

    // A delete marker on another batch: allowed under COMPLIANCE, and a plain download then lacks it.
    const hidden = keys[2]!;
    expect((await s3().request("DELETE", `/${o.bucket}/${hidden}`)).status).toBe(204);
    const gap = await check(await download(o.bucket, tenant, "hidden"));
    expect(gap.code).toBe(1);
    expect(gap.stdout).toContain("are in no object: removed");
  }, 180_000);
});
