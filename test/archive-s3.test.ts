import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalArchive, createS3Archive, type S3ArchiveOptions, type S3ArchiveStore } from "@kakunin/origin/archive/index";
import { AwsClient } from "aws4fetch";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

// The S3 half runs against a real S3 server with Object Lock: Ceph RGW from
// scripts/worm-s3/ceph-up.sh, whose output sets these variables.
interface S3Env { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string }
const S3: S3Env | null = (() => {
  const e = process.env;
  if (!e.S3_ENDPOINT || !e.S3_ACCESS_KEY_ID || !e.S3_SECRET_ACCESS_KEY || !e.S3_REGION) return null;
  return { endpoint: e.S3_ENDPOINT, accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY, region: e.S3_REGION };
})();
const MISSING =
  "S3_ENDPOINT/S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY/S3_REGION unset; start Ceph RGW with " +
  'S3ENV=$(bash scripts/worm-s3/ceph-up.sh); set -a; eval "$S3ENV"; set +a (stop: bash scripts/worm-s3/ceph-down.sh)';
if (!S3 && process.env.CI === "true") {
  // In CI a missing server must fail the run: a skipped WORM test proves nothing.
  describe("S3 archive (CI)", () => {
    it("has a real S3 server to test against", () => {
      throw new Error(MISSING);
    });
  });
} else if (!S3) {
  console.warn(`archive-s3.test.ts: skipping the S3 archive tests: ${MISSING}`);
}

const sha256 = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");
const md5b64 = (b: Uint8Array | string): string => createHash("md5").update(b).digest("base64");
const md5hex = (b: Uint8Array): string => createHash("md5").update(b).digest("hex");
const tag = (xml: string, t: string): string | null => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1] ?? null;
const batch = (n: number): Uint8Array =>
  new TextEncoder().encode(`{"seq":${n},"event":"agent.certified","actor":"tenant-a"}\n{"seq":${n + 1},"event":"agent.revoked"}\n`);
// Retain-until 1 h ahead with a millisecond part, to see put() round it up to a whole second.
const inAnHour = (): Date => new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000 + 123);
const wholeSecondAfter = (d: Date): number => Math.ceil(d.getTime() / 1000) * 1000;

describe.skipIf(!S3)(`S3 archive against Ceph RGW${S3 ? "" : " (skipped: S3_ENDPOINT unset)"}`, () => {
  const env = (): S3Env => {
    if (!S3) throw new Error(MISSING);
    return S3;
  };
  // COMPLIANCE objects can't be deleted, so every run gets fresh bucket names.
  const bucket = `kakunin-archive-test-${Date.now()}-${randomBytes(3).toString("hex")}`;
  const unlocked = `${bucket}-nolock`;
  let store: S3ArchiveStore;
  let raw: AwsClient;
  const archive = (o: Partial<S3ArchiveOptions> = {}): S3ArchiveStore => createS3Archive({ ...env(), bucket, timeoutMs: 5_000, ...o });

  /** A request outside the ArchiveStore, signed by aws4fetch: what an attacker with our keys could try. */
  async function s3(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
    const res = await raw.fetch(`${env().endpoint}${path}`, { method, ...init, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, code: tag(text, "Code") };
  }

  beforeAll(async () => {
    raw = new AwsClient({ ...env(), service: "s3", retries: 0 });
    store = archive();
    expect((await s3("PUT", `/${unlocked}`)).status).toBe(200); // a bucket WITHOUT Object Lock
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("ensureBucket creates the bucket with Object Lock (and versioning), and is idempotent", async () => {
    expect(await store.ensureBucket()).toEqual({ ok: true, value: { created: true } });
    expect(await store.ensureBucket()).toEqual({ ok: true, value: { created: false } });
    expect(tag((await s3("GET", `/${bucket}?object-lock`)).text, "ObjectLockEnabled")).toBe("Enabled");
    expect(tag((await s3("GET", `/${bucket}?versioning`)).text, "Status")).toBe("Enabled");
  });

  it("ensureBucket / put on a bucket without Object Lock → misconfigured", async () => {
    const s = archive({ bucket: unlocked });
    expect(await s.ensureBucket()).toMatchObject({ ok: false, error: { code: "misconfigured" } });
    const body = batch(1);
    expect(await s.put("audit/b1.jsonl", body, { retainUntil: inAnHour(), sha256Hex: sha256(body) }))
      .toMatchObject({ ok: false, error: { code: "misconfigured" } });
  });

  const key = "audit/2026/batch-000001.jsonl";
  const body1 = batch(1);
  const until1 = inAnHour();
  let v1 = "";

  it("put → 200 with a version id; head returns sha256 + COMPLIANCE retain-until; get returns the bytes", async () => {
    const put = await store.put(key, body1, { retainUntil: until1, sha256Hex: sha256(body1) });
    if (!put.ok) throw new Error(put.error.message);
    expect(put.value.versionId).toMatch(/\S/);
    expect(put.value.etag).toBe(md5hex(body1));
    v1 = put.value.versionId ?? "";

    const head = await store.head(key);
    expect(head).toEqual({ ok: true, value: { sha256Hex: sha256(body1), retainUntil: new Date(wholeSecondAfter(until1)), versionId: v1 } });
    const retention = await s3("GET", `/${bucket}/${key}?retention&versionId=${encodeURIComponent(v1)}`);
    expect(tag(retention.text, "Mode")).toBe("COMPLIANCE");
    // Ceph answers with nanoseconds (…:00.000000000Z), hence Date.parse, not string equality.
    expect(Date.parse(tag(retention.text, "RetainUntilDate") ?? "")).toBe(wholeSecondAfter(until1));

    const got = await store.get(key);
    expect(got.ok && got.value && Buffer.from(got.value).equals(Buffer.from(body1))).toBe(true);
    expect(await store.get("audit/missing.jsonl")).toEqual({ ok: true, value: null });
    expect(await store.head("audit/missing.jsonl")).toEqual({ ok: true, value: null });
  });

  it("DELETE of the archived version is refused (403), also with x-amz-bypass-governance-retention", async () => {
    const path = `/${bucket}/${key}?versionId=${encodeURIComponent(v1)}`;
    expect((await s3("DELETE", path)).status).toBe(403);
    expect((await s3("DELETE", path, { headers: { "x-amz-bypass-governance-retention": "true" } })).status).toBe(403);
    const got = await store.get(key);
    expect(got.ok && got.value && Buffer.from(got.value).equals(Buffer.from(body1))).toBe(true);
  });

  it("shortening the retention (PUT ?retention) is refused", async () => {
    const earlier = new Date(Date.now() + 600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const xml = `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>COMPLIANCE</Mode><RetainUntilDate>${earlier}</RetainUntilDate></Retention>`;
    const r = await s3("PUT", `/${bucket}/${key}?retention&versionId=${encodeURIComponent(v1)}`, { body: xml, headers: { "Content-MD5": md5b64(xml) } });
    expect(r.status).toBe(403);
    const head = await store.head(key);
    expect(head.ok && head.value?.retainUntil?.getTime()).toBe(wholeSecondAfter(until1));
  });

  it("put is write-once per key: same bytes → ok (same version), different bytes → rejected", async () => {
    expect(await store.put(key, body1, { retainUntil: inAnHour(), sha256Hex: sha256(body1) }))
      .toEqual({ ok: true, value: { versionId: v1, etag: md5hex(body1) } });
    const other = batch(7);
    expect(await store.put(key, other, { retainUntil: inAnHour(), sha256Hex: sha256(other) }))
      .toMatchObject({ ok: false, error: { code: "rejected" } });
    const versions = await s3("GET", `/${bucket}?versions&prefix=${encodeURIComponent(key)}`);
    expect([...versions.text.matchAll(/<VersionId>([^<]*)<\/VersionId>/g)].map((m) => m[1])).toEqual([v1]);
  });

  it("the same bytes already there without a lock (planted by someone with the bucket's keys) are locked, not taken as archived", async () => {
    const planted = `planted/${Date.now()}`;
    const body = batch(40);
    // What an insider could leave at a key the archiver will use: the right bytes and metadata, no retention.
    const r = await s3("PUT", `/${bucket}/${planted}`, { body: new TextDecoder().decode(body), headers: { "x-amz-meta-sha256": sha256(body), "Content-MD5": md5b64(body) } });
    expect(r.status).toBe(200);
    const before = await store.head(planted);
    expect(before.ok && before.value?.retainUntil).toBeNull();
    const until = inAnHour();
    const put = await store.put(planted, body, { retainUntil: until, sha256Hex: sha256(body) });
    expect(put.ok).toBe(true);
    const after = await store.head(planted);
    expect(after.ok && after.value?.retainUntil?.getTime()).toBe(wholeSecondAfter(until));
    const versionId = after.ok ? after.value?.versionId : null;
    expect((await s3("DELETE", `/${bucket}/${planted}?versionId=${encodeURIComponent(versionId ?? "")}`)).status).toBe(403);
  });

  it("other bytes planted under the right sha256 metadata are rejected, not locked and taken as archived", async () => {
    const planted = `forged/${Date.now()}`;
    const body = batch(50);
    const forged = batch(51);
    // The metadata is whatever the writer says: an insider plants a forged batch labelled with the
    // real batch's hash at the key the archiver will use next.
    const r = await s3("PUT", `/${bucket}/${planted}`, { body: new TextDecoder().decode(forged), headers: { "x-amz-meta-sha256": sha256(body), "Content-MD5": md5b64(forged) } });
    expect(r.status).toBe(200);
    const put = await store.put(planted, body, { retainUntil: inAnHour(), sha256Hex: sha256(body) });
    expect(put).toMatchObject({ ok: false, error: { code: "rejected" } });
    if (!put.ok) expect(put.error.message).toContain(sha256(forged));
    // Not locked either: the forged object stays deletable, so an operator can clear the key.
    const after = await store.head(planted);
    expect(after.ok && after.value?.retainUntil).toBeNull();
  });

  it("put ALWAYS sends Content-MD5 and the lock headers, all signed (Ceph would accept a PUT without them)", async () => {
    const spy = vi.spyOn(globalThis, "fetch");
    const body = batch(3);
    const until = inAnHour();
    const put = await store.put("audit/intercepted.jsonl", body, { retainUntil: until, sha256Hex: sha256(body) });
    expect(put.ok).toBe(true);
    const sent = spy.mock.calls.map(([input]) => (input instanceof Request ? input : new Request(String(input))));
    expect(sent.map((r) => r.method)).toEqual(["HEAD", "PUT"]);
    const h = sent[1]?.headers ?? new Headers();
    expect(h.get("content-md5")).toBe(md5b64(body));
    expect(h.get("x-amz-content-sha256")).toBe(sha256(body));
    expect(h.get("x-amz-meta-sha256")).toBe(sha256(body));
    expect(h.get("x-amz-object-lock-mode")).toBe("COMPLIANCE");
    expect(h.get("x-amz-object-lock-retain-until-date")).toBe(new Date(wholeSecondAfter(until)).toISOString().replace(".000Z", "Z"));
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(h.get("authorization") ?? "")?.[1]?.split(";") ?? [];
    expect(signedHeaders).toEqual(expect.arrayContaining([
      "content-md5", "x-amz-content-sha256", "x-amz-meta-sha256", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
    ]));
    expect(sent.every((r) => r.signal instanceof AbortSignal)).toBe(true);
  });

  it("the server verifies Content-MD5 and the signed payload hash (a body altered in flight is rejected)", async () => {
    const body = new TextDecoder().decode(batch(4));
    const lock = { "x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z" };
    const badMd5 = await s3("PUT", `/${bucket}/audit/bad-md5`, { body, headers: { ...lock, "Content-MD5": md5b64("something else") } });
    expect([badMd5.status, badMd5.code]).toEqual([400, "BadDigest"]);
    // Signed for one body, sent with another (no Content-MD5, so only the payload hash can catch it).
    const tamper = async (hash: string) => {
      const signed = await raw.sign(`${env().endpoint}/${bucket}/audit/tampered-${hash.slice(0, 8)}`, { method: "PUT", body, headers: { "X-Amz-Content-Sha256": hash } });
      const res = await fetch(new Request(signed, { body: body.replace("certified", "xxxxxxxxx") }));
      await res.text();
      return res.status;
    };
    expect(await tamper(sha256(body))).toBe(400);
    expect(await tamper("UNSIGNED-PAYLOAD")).toBe(200); // why put() never uses UNSIGNED-PAYLOAD
  });

  it("a body that does not match the caller's sha256Hex is rejected before anything is sent", async () => {
    const spy = vi.spyOn(globalThis, "fetch");
    const r = await store.put("audit/mismatch.jsonl", batch(5), { retainUntil: inAnHour(), sha256Hex: sha256(batch(6)) });
    expect(r).toMatchObject({ ok: false, error: { code: "rejected" } });
    expect(spy).not.toHaveBeenCalled();
  });

  it("wrong secret → misconfigured (403 SignatureDoesNotMatch: no retry can fix credentials)", async () => {
    const s = archive({ secretAccessKey: `${env().secretAccessKey}x` });
    const body = batch(8);
    const put = await s.put("audit/wrong-secret.jsonl", body, { retainUntil: inAnHour(), sha256Hex: sha256(body) });
    expect(put).toMatchObject({ ok: false, error: { code: "misconfigured", message: expect.stringContaining("403") } });
    expect(await s.get(key)).toMatchObject({ ok: false, error: { code: "misconfigured", message: expect.stringContaining("SignatureDoesNotMatch") } });
    expect(await s.ensureBucket()).toMatchObject({ ok: false, error: { code: "misconfigured" } });
  });

  it("missing bucket → misconfigured on put/get (head can only say 404: null)", async () => {
    const s = archive({ bucket: `${bucket}-missing` });
    const body = batch(9);
    expect(await s.put("audit/x.jsonl", body, { retainUntil: inAnHour(), sha256Hex: sha256(body) }))
      .toMatchObject({ ok: false, error: { code: "misconfigured", message: expect.stringContaining("NoSuchBucket") } });
    expect(await s.get("audit/x.jsonl")).toMatchObject({ ok: false, error: { code: "misconfigured" } });
  });

  describe("unreachable server → unavailable within the timeout, no throw", () => {
    const sockets = new Set<Socket>();
    let silent: Server;
    beforeAll(async () => {
      // Accepts connections and never answers: a hung RGW (e.g. a full OSD) looks like this.
      silent = createServer((s) => sockets.add(s));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const port = (srv: Server): number => {
      const a = srv.address();
      return a && typeof a === "object" ? a.port : 0;
    };

    it("connection refused (nothing listening on the port)", async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const p = port(closed);
      await new Promise((resolve) => closed.close(resolve));
      const s = archive({ endpoint: `http://127.0.0.1:${p}`, timeoutMs: 2_000 });
      const t0 = Date.now();
      const body = batch(10);
      expect(await s.put("audit/x.jsonl", body, { retainUntil: inAnHour(), sha256Hex: sha256(body) }))
        .toMatchObject({ ok: false, error: { code: "unavailable", message: expect.stringContaining("ECONNREFUSED") } });
      expect(await s.get("audit/x.jsonl")).toMatchObject({ ok: false, error: { code: "unavailable" } });
      expect(Date.now() - t0).toBeLessThan(2_000);
    });

    it("server accepts but never answers: each request ends at timeoutMs", async () => {
      const s = archive({ endpoint: `http://127.0.0.1:${port(silent)}`, timeoutMs: 300 });
      const t0 = Date.now();
      expect(await s.head("audit/x.jsonl")).toMatchObject({ ok: false, error: { code: "unavailable", message: expect.stringContaining("300 ms") } });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(Date.now() - t0).toBeLessThan(2_000);
    });
  });
});

describe("local archive", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kakunin-archive-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const opts = (b: Uint8Array) => ({ retainUntil: inAnHour(), sha256Hex: sha256(b) });

  it("writes read-only files (data + sidecar) under a created dir; head/get read them back", async () => {
    const store = createLocalArchive(join(dir, "a", "b"));
    const body = batch(1);
    const o = opts(body);
    expect(await store.put("audit/2026/batch-1.jsonl", body, o)).toEqual({ ok: true, value: { versionId: null, etag: md5hex(body) } });
    const file = join(dir, "a", "b", "audit", "2026", "batch-1.jsonl");
    expect(Buffer.from(await readFile(file)).equals(Buffer.from(body))).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o444);
    expect((await stat(`${file}.meta.json`)).mode & 0o777).toBe(0o444);
    const meta: unknown = JSON.parse(await readFile(`${file}.meta.json`, "utf8"));
    expect(meta).toEqual({ sha256: sha256(body), retainUntil: new Date(wholeSecondAfter(o.retainUntil)).toISOString().replace(".000Z", "Z") });
    expect(await store.head("audit/2026/batch-1.jsonl"))
      .toEqual({ ok: true, value: { sha256Hex: sha256(body), retainUntil: new Date(wholeSecondAfter(o.retainUntil)), versionId: null } });
    const got = await store.get("audit/2026/batch-1.jsonl");
    expect(got.ok && got.value && Buffer.from(got.value).equals(Buffer.from(body))).toBe(true);
    expect(await store.get("audit/none")).toEqual({ ok: true, value: null });
    expect(await store.head("audit/none")).toEqual({ ok: true, value: null });
  });

  it("same bytes again → ok (idempotent); different bytes → rejected, file unchanged", async () => {
    const store = createLocalArchive(dir);
    const body = batch(2);
    expect((await store.put("k.jsonl", body, opts(body))).ok).toBe(true);
    expect((await store.put("k.jsonl", body, opts(body))).ok).toBe(true);
    const other = batch(3);
    expect(await store.put("k.jsonl", other, opts(other))).toMatchObject({ ok: false, error: { code: "rejected" } });
    expect(Buffer.from(await readFile(join(dir, "k.jsonl"))).equals(Buffer.from(body))).toBe(true);
  });

  it("two concurrent puts of different bytes: exactly one wins, the other is rejected", async () => {
    const store = createLocalArchive(dir);
    const bodies = Array.from({ length: 8 }, (_, i) => batch(100 + i));
    const results = await Promise.all(bodies.map((b) => store.put("race.jsonl", b, opts(b))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.error.code === "rejected")).toHaveLength(7);
  });

  it("rejects keys that could escape the dir or clash with sidecars; an unusable dir is misconfigured", async () => {
    const store = createLocalArchive(join(dir, "keys"));
    const body = batch(4);
    for (const key of ["", "../escape", "/abs", "a//b", "a/./b", ".hidden", "x.meta.json", "a\\b", "sp ace"]) {
      expect(await store.put(key, body, opts(body))).toMatchObject({ ok: false, error: { code: "rejected" } });
    }
    await writeFile(join(dir, "not-a-dir"), "x");
    expect(await createLocalArchive(join(dir, "not-a-dir")).put("k", body, opts(body)))
      .toMatchObject({ ok: false, error: { code: "misconfigured" } });
    expect(await store.put("k", body, { retainUntil: new Date(Date.now() - 1000), sha256Hex: sha256(body) }))
      .toMatchObject({ ok: false, error: { code: "rejected" } });
  });
});
