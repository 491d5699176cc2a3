import { createHash, randomBytes } from "node:crypto";
import { createServer, request as forward, type Server } from "node:http";
import { createS3Archive } from "@kakunin/origin/archive/index";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Admin, S3_MISSING, s3EnvFromProcess, type S3Env } from "./support/s3-admin.ts";
import { freePort } from "./support/system.ts";

/**
 * HTTP-level faults between the archive and a real S3 (Ceph RGW), injected by a proxy that
 * understands requests (the TCP proxy of test/support can only cut everything): 503 SlowDown, a
 * connection reset in the middle of an upload, and a PUT that S3 stored but whose answer never
 * arrived. Each must be `unavailable` (retry), and the retry must find what is there: one version
 * of the object, never a second one or a gap.
 */
const S3 = s3EnvFromProcess();
if (!S3 && process.env.CI === "true") {
  describe("S3 archive faults (CI)", () => {
    it("has a real S3 server to test against", () => {
      throw new Error(S3_MISSING);
    });
  });
} else if (!S3) {
  console.warn(`archive-s3-faults.test.ts: skipping: ${S3_MISSING}`);
}

type Fault = "none" | "slowdown" | "reset-mid-upload" | "lose-put-answer";
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe.skipIf(!S3)("S3 archive under HTTP faults (Ceph RGW behind a fault proxy)", () => {
  const env = (): S3Env => S3!;
  const bucket = `kakunin-faults-${Date.now()}-${randomBytes(3).toString("hex")}`;
  let fault: Fault = "none";
  let proxy: Server;
  let url = "";
  beforeAll(async () => {
    const target = new URL(env().endpoint);
    proxy = createServer((req, res) => {
      if (fault === "slowdown") {
        res.writeHead(503, { "content-type": "application/xml" });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
        return;
      }
      if (fault === "reset-mid-upload" && req.method === "PUT") {
        req.once("data", () => req.socket.resetAndDestroy());
        return;
      }
      const up = forward({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        if (fault === "lose-put-answer" && req.method === "PUT") {
          // S3 stored it; the client never hears so.
          answer.resume();
          answer.on("end", () => req.socket.resetAndDestroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(up);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  });

  it("every fault is `unavailable`; the retry after a lost answer finds the stored version: one version, same id", async () => {
    const store = createS3Archive({ ...env(), endpoint: url, bucket, timeoutMs: 5_000 });
    expect((await store.ensureBucket()).ok).toBe(true);
    const key = "audit/faults/000000000000-000000000001.jsonl";
    const body = new TextEncoder().encode('{"index":0}\n{"index":1}\n');
    const opts = { retainUntil: new Date(Date.now() + 3_600_000), sha256Hex: sha256(body) };
    const admin = createS3Admin(env());
    const versions = async () => (await admin.listVersions(bucket, key)).versions.map((v) => v.versionId);

    fault = "slowdown";
    expect(await store.put(key, body, opts)).toMatchObject({ ok: false, error: { code: "unavailable", message: expect.stringContaining("503") } });
    fault = "reset-mid-upload";
    expect(await store.put(key, body, opts)).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect(await versions()).toEqual([]);

    fault = "lose-put-answer";
    expect(await store.put(key, body, opts)).toMatchObject({ ok: false, error: { code: "unavailable" } });
    const stored = await versions();
    expect(stored).toHaveLength(1);

    fault = "none";
    expect(await store.put(key, body, opts)).toEqual({ ok: true, value: { versionId: stored[0], etag: expect.any(String) } });
    expect(await versions()).toEqual(stored);
    const head = await store.head(key);
    expect(head.ok && head.value?.retainUntil?.getTime()).toBeGreaterThan(Date.now());
  });
});
