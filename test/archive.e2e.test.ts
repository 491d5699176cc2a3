import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { ARCHIVE_BATCH, archivingOrigin, burst, type ArchivingOrigin } from "./faults/archive-drill.ts";
import { createS3Admin, S3_MISSING, s3EnvFromProcess, type S3Admin, type S3Env } from "./support/s3-admin.ts";
import { pollUntil } from "./support/system.ts";
import { startTcpProxy } from "./support/tcp-proxy.ts";

/**
 * The audit archive end to end: the real origin process (PGlite on disk) archiving into a real
 * S3 server with Object Lock (Ceph RGW from scripts/worm-s3/ceph-up.sh). What the unit tests
 * can't show: that the log reaches WORM storage complete, in order and exactly once, also
 * across kill -9 of the origin and an S3 outage.
 */
const S3 = s3EnvFromProcess();
if (!S3 && process.env.CI === "true") {
  // In CI a missing server must fail the run: a skipped WORM test proves nothing.
  describe("audit archive e2e (CI)", () => {
    it("has a real S3 server to test against", () => {
      throw new Error(S3_MISSING);
    });
  });
} else if (!S3) {
  console.warn(`archive.e2e.test.ts: skipping: ${S3_MISSING}`);
}

const BATCH = ARCHIVE_BATCH;
const KEY = /^audit\/[0-9a-f-]{36}\/(\d{12})-(\d{12})-[0-9a-f]{16}\.jsonl$/;
const YEAR = 365 * 86_400_000;

interface Entry { index: number; kind: string; agent_id: string | null; canonical: string }
interface Range { key: string; first: number; last: number; versionIds: string[] }
interface ArchivedObject extends Range { text: string }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");
const randInt = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));

describe.skipIf(!S3)("audit archive → S3 Object Lock (real origin process, Ceph RGW)", () => {
  const env = (): S3Env => {
    if (!S3) throw new Error(S3_MISSING);
    return S3;
  };
  const admin: S3Admin | null = S3 ? createS3Admin(S3) : null;
  const s3 = (): S3Admin => {
    if (!admin) throw new Error(S3_MISSING);
    return admin;
  };
  // Run in reverse on teardown: origins stop before their data dirs are removed.
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /** The fault drills' archiving origin (test/faults/archive-drill.ts), stopped and removed on teardown. */
  async function origin(endpoint: string): Promise<ArchivingOrigin> {
    const o = await archivingOrigin(env(), endpoint);
    cleanups.push(() => o.stop());
    return o;
  }

  async function tenantOf(o: ArchivingOrigin): Promise<string> {
    const r = await o.api("GET", "/v1/tenant");
    expect(r.status).toBe(200);
    return ((await r.json()) as { data: { id: string } }).data.id;
  }

  async function allEntries(o: ArchivingOrigin): Promise<Entry[]> {
    const out: Entry[] = [];
    let from: string | null = "0";
    while (from !== null) {
      const r = await o.api("GET", `/v1/audit/entries?from=${from}&limit=1000`);
      expect(r.status).toBe(200);
      const page = (await r.json()) as { data: Entry[]; next_cursor: string | null };
      out.push(...page.data);
      from = page.next_cursor;
    }
    return out;
  }

  /** The tenant's objects as listed (key order), with every version of each; throws on keys of another shape. */
  async function ranges(bucket: string, tenant: string): Promise<{ ranges: Range[]; deleteMarkers: number }> {
    const listing = await s3().listVersions(bucket, `audit/${tenant}/`);
    const byKey = new Map<string, Range>();
    for (const v of listing.versions) {
      const m = KEY.exec(v.key);
      if (!m) throw new Error(`unexpected object key ${v.key}`);
      const r = byKey.get(v.key) ?? { key: v.key, first: Number(m[1]), last: Number(m[2]), versionIds: [] };
      r.versionIds.push(v.versionId);
      byKey.set(v.key, r);
    }
    return { ranges: [...byKey.values()], deleteMarkers: listing.deleteMarkers.length };
  }

  /** Bounded: until some object ends at entry n-1 (whether the ranges before it are right is verify's job). */
  async function waitArchived(o: ArchivingOrigin, tenant: string, n: number, timeoutMs = 60_000): Promise<void> {
    try {
      await pollUntil(async () => {
        const { ranges: rs } = await ranges(o.bucket, tenant);
        return rs.some((r) => r.last >= n - 1) ? true : undefined;
      }, timeoutMs, 250);
    } catch (e) {
      const { ranges: rs } = await ranges(o.bucket, tenant);
      throw new Error(`entries 0..${n - 1} not archived within ${timeoutMs} ms (${e instanceof Error ? e.message : String(e)}); ` +
        `objects: ${rs.map((r) => `${r.first}-${r.last}`).join(" ") || "none"}\norigin log:\n${o.proc().log().slice(-4000)}`);
    }
  }

  /**
   * The archive holds exactly `entries`: keys in listing order are the log order, ranges are
   * contiguous from 0 without overlap, each key has one version and no delete marker, and the
   * objects' lines are the entries' canonical JSON in order.
   */
  async function verifyExactlyOnce(bucket: string, tenant: string, entries: Entry[]): Promise<ArchivedObject[]> {
    expect(entries.map((e) => e.index)).toEqual(entries.map((_, i) => i));
    const { ranges: rs, deleteMarkers } = await ranges(bucket, tenant);
    expect(deleteMarkers).toBe(0);
    expect(rs.filter((r) => r.versionIds.length !== 1).map((r) => `${r.key}: ${r.versionIds.length} versions`)).toEqual([]);
    expect(rs.length).toBeGreaterThan(0);
    // Listing order is key order; contiguity in that order proves the keys sort in log order.
    const gaps: string[] = [];
    rs.forEach((r, i) => {
      const expectedFirst = i === 0 ? 0 : rs[i - 1]!.last + 1;
      if (r.first !== expectedFirst || r.last < r.first || r.last - r.first + 1 > BATCH) gaps.push(`${r.key} (expected first ${expectedFirst})`);
    });
    expect(gaps).toEqual([]);
    expect(rs[rs.length - 1]!.last).toBe(entries.length - 1);
    const objects: ArchivedObject[] = [];
    for (const r of rs) objects.push({ ...r, text: await s3().getText(bucket, r.key) });
    for (const obj of objects) {
      expect(obj.text.endsWith("\n")).toBe(true);
      expect(obj.text.slice(0, -1).split("\n")).toEqual(entries.slice(obj.first, obj.last + 1).map((e) => e.canonical));
    }
    return objects;
  }

  /** Every write the API acknowledged is in the log (kill -9 after a 201 must not lose it). */
  function expectAckedPresent(entries: Entry[], acked: string[]): void {
    const logged = new Set(entries.filter((e) => e.kind === "agent.created").map((e) => e.agent_id));
    expect(acked.filter((id) => !logged.has(id))).toEqual([]);
  }

  it("batches land in S3: every entry exactly once, in order, single-version, COMPLIANCE-locked, undeletable", async () => {
    const o = await origin(env().endpoint);
    const tenant = await tenantOf(o);
    const w = await burst(o, 23);
    expect(w.failed).toBe(0);
    const entries = await allEntries(o);
    expect(entries.length).toBeGreaterThanOrEqual(23);
    expectAckedPresent(entries, w.acked);
    await waitArchived(o, tenant, entries.length);
    // The origin appends nothing by itself: the log is still what was archived.
    expect((await allEntries(o)).length).toBe(entries.length);
    const objects = await verifyExactlyOnce(o.bucket, tenant, entries);
    expect(objects.length).toBeGreaterThanOrEqual(Math.ceil(entries.length / BATCH));

    const now = Date.now();
    for (const obj of objects) {
      const h = await s3().head(o.bucket, obj.key);
      expect(h.status).toBe(200);
      expect(h.headers.get("x-amz-object-lock-mode")).toBe("COMPLIANCE");
      // Default retention is 2557 days; anything under six years would mean a wrong or unit-confused date.
      expect(Date.parse(h.headers.get("x-amz-object-lock-retain-until-date") ?? "")).toBeGreaterThan(now + 6 * YEAR);
      expect(h.headers.get("x-amz-meta-sha256")).toBe(sha256(obj.text));
      expect(h.headers.get("x-amz-version-id")).toBe(obj.versionIds[0]);
    }
    // WORM: with the origin's own keys, the one version of an archived batch can't be deleted.
    const victim = objects[0]!;
    const del = await s3().deleteVersion(o.bucket, victim.key, victim.versionIds[0]!);
    expect(del.status).toBe(403);
    const after = await s3().head(o.bucket, victim.key, victim.versionIds[0]!);
    expect(after.status).toBe(200);
    expect(await s3().getText(o.bucket, victim.key)).toBe(victim.text);
  }, 120_000);

  it("kill -9 of the origin at random moments: nothing lost, nothing archived twice", async () => {
    const o = await origin(env().endpoint);
    const tenant = await tenantOf(o);
    const acked: string[] = [];
    // Each round kills at a different moment relative to writes and to the 2 s archive pass.
    const modes = ["after-burst", "mid-burst", "random-delay", "first-new-object", "random-delay", "mid-burst", "first-new-object", "after-burst"] as const;
    const plan: string[] = [];
    for (const mode of modes) {
      const n = randInt(6, 13);
      const keysBefore = (await ranges(o.bucket, tenant)).ranges.length;
      if (mode === "mid-burst") {
        // Kill once some of the burst is acknowledged, so acked and in-flight writes are both in play.
        const live: string[] = [];
        const writes = burst(o, n, live);
        const k = randInt(1, n - 3);
        await pollUntil(async () => (live.length >= k ? true : undefined), 20_000, 2);
        await o.kill9();
        const w = await writes;
        acked.push(...w.acked);
        plan.push(`${mode}(n=${n}, after ${k} acked: ${w.acked.length} acked, ${w.failed} cut off)`);
      } else {
        const w = await burst(o, n);
        expect(w.failed).toBe(0);
        acked.push(...w.acked);
        let detail = "";
        if (mode === "random-delay") {
          const delay = randInt(0, 2500);
          await sleep(delay);
          detail = `, ${delay} ms`;
        } else if (mode === "first-new-object") {
          // Kill as soon as this burst's first object is visible: the rest of the pass is still uploading.
          const seen = await pollUntil(async () => ((await ranges(o.bucket, tenant)).ranges.length > keysBefore ? true : undefined), 20_000, 10);
          detail = `, after ${Math.round(seen.ms)} ms`;
        }
        await o.kill9();
        plan.push(`${mode}(n=${n}${detail})`);
      }
      await o.restart();
    }
    console.log(`archive crash plan: ${plan.join(" → ")}`);

    const entries = await allEntries(o);
    expectAckedPresent(entries, acked);
    expect(entries.length).toBeGreaterThanOrEqual(acked.length);
    await waitArchived(o, tenant, entries.length);
    expect((await allEntries(o)).length).toBe(entries.length);
    await verifyExactlyOnce(o.bucket, tenant, entries);
  }, 300_000);

  it("S3 outage: the API keeps answering, nothing is archived meanwhile, then everything exactly once", async () => {
    const target = new URL(env().endpoint);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 80) });
    cleanups.push(() => proxy.close());
    const o = await origin(proxy.url);
    const tenant = await tenantOf(o);

    // Some history archived through the proxy before the outage.
    const before = await burst(o, 7);
    expect(before.failed).toBe(0);
    const n0 = (await allEntries(o)).length;
    await waitArchived(o, tenant, n0);
    const objectsBefore = (await ranges(o.bucket, tenant)).ranges.length;

    proxy.setDown(true);
    const during = await burst(o, 16);
    expect(during.failed).toBe(0); // every POST answered 201 while S3 was unreachable
    const entries = await allEntries(o);
    expect(entries.length).toBe(n0 + 16);
    await sleep(5000);
    expect((await o.api("GET", "/healthz")).status).toBe(200);
    expect((await ranges(o.bucket, tenant)).ranges.length).toBe(objectsBefore);
    // The archiver did try (and was refused) during the outage, so recovery below is a real retry.
    expect(proxy.refused()).toBeGreaterThan(0);

    proxy.setDown(false);
    // Backoff after a few failures is up to ~16 s: generous but bounded.
    await waitArchived(o, tenant, entries.length, 90_000);
    expect((await allEntries(o)).length).toBe(entries.length);
    await verifyExactlyOnce(o.bucket, tenant, entries);
    expectAckedPresent(entries, [...before.acked, ...during.acked]);
  }, 180_000);
});
