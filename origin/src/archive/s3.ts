import { createHash } from "node:crypto";
import { err, ok, type Result } from "@kakunin/shared";
import { AwsClient } from "aws4fetch";
import { classifyResponse, classifyThrown, xmlTag } from "./s3-errors.ts";
import type { ArchiveError, ArchiveHead, ArchivePutResult, S3ArchiveStore } from "./types.ts";
import { checkKey, isSha256Hex, preparePut } from "./validate.ts";

export interface S3ArchiveOptions {
  /** Base URL, e.g. https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:7480 (Ceph RGW). */
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Per request (put = HEAD + PUT, so up to twice this). Default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

interface S3Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/**
 * Audit batches in an S3 bucket with Object Lock: every object is written with COMPLIANCE
 * retention, which nobody (root account included) can shorten or delete before it runs out.
 * Path-style URLs, so it works against AWS and against Ceph RGW / MinIO on a plain endpoint.
 */
export function createS3Archive(opts: S3ArchiveOptions): S3ArchiveStore {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const base = opts.endpoint.replace(/\/+$/, "");
  const problem = configurationProblem(opts, base);
  // service/region must be explicit: aws4fetch otherwise guesses both from the hostname, which
  // for a non-AWS host yields an empty scope and 403 SignatureDoesNotMatch on every request.
  // retries: 0 because the archiver retries with its own backoff; aws4fetch would retry 10x.
  const client = new AwsClient({
    accessKeyId: opts.accessKeyId,
    secretAccessKey: opts.secretAccessKey,
    service: "s3",
    region: opts.region,
    retries: 0,
  });
  const awsHost = !problem && new URL(base).hostname.endsWith(".amazonaws.com");
  const bucketUrl = `${base}/${opts.bucket}`;
  const objectUrl = (segments: string[]): string => `${bucketUrl}/${segments.map(encodeURIComponent).join("/")}`;

  async function send(what: string, url: string, init: { method: string; headers?: Record<string, string>; body?: Uint8Array }): Promise<Result<S3Answer, ArchiveError>> {
    if (problem) return err({ code: "misconfigured", message: problem });
    // aws4fetch has no timeout of its own; a hung server (e.g. a full Ceph OSD) would block forever.
    // The same signal also bounds reading the body. It is given to fetch() itself, not to the
    // Request aws4fetch signs: fetch() copies that Request, whose signal follows ours only through a
    // weak reference, so once the garbage collector ran the timeout fired into nothing and a hung
    // store held each request for undici's 300 s headers timeout instead of timeoutMs.
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(await client.sign(url, init), { signal });
      return ok({ status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) });
    } catch (e) {
      return err(classifyThrown(what, e, timeoutMs));
    }
  }

  const failure = (what: string, a: S3Answer): ArchiveError => {
    const e = classifyResponse(what, a.status, Buffer.from(a.body).toString("utf8"));
    // On-call must see which clock is wrong, not only that the request was refused.
    const serverTime = a.headers.get("date");
    if (e.message.includes("RequestTimeTooSkewed") && serverTime) {
      e.message += `; the S3 server's time is ${serverTime}, this origin's ${new Date().toUTCString()}: synchronise the clocks (NTP)`;
    }
    return e;
  };

  /**
   * A HEAD error carries no body, so "HTTP 403" would be all on-call sees for expired or wrong
   * credentials, clock skew or a missing permission alike (every put starts with a HEAD). The
   * same request as a one-byte GET returns the error document that names the cause.
   */
  async function headFailure(key: string, url: string, a: S3Answer): Promise<ArchiveError> {
    // A 5xx or 429 says enough (retry); no second request to a server already struggling.
    if (a.status >= 500 || a.status === 429) return failure(`HEAD ${key}`, a);
    const g = await send(`GET ${key}`, url, { method: "GET", headers: { Range: "bytes=0-0" } });
    if (g.ok && g.value.status >= 300 && xmlTag(Buffer.from(g.value.body).toString("utf8"), "Code")) return failure(`HEAD ${key}`, g.value);
    return failure(`HEAD ${key}`, a);
  }

  async function head(key: string): Promise<Result<ArchiveHead | null, ArchiveError>> {
    const segments = checkKey(key);
    if (!segments.ok) return segments;
    const url = objectUrl(segments.value);
    const r = await send(`HEAD ${key}`, url, { method: "HEAD" });
    if (!r.ok) return r;
    // 404 also covers a missing bucket (HEAD has no error body to tell them apart); put() would
    // then fail with NoSuchBucket, which is reported as misconfigured.
    if (r.value.status === 404) return ok(null);
    if (r.value.status !== 200) return err(await headFailure(key, url, r.value));
    const h = r.value.headers;
    const sha = h.get("x-amz-meta-sha256");
    // Ceph returns retain-until with nanoseconds, AWS with milliseconds: parse, never compare strings.
    const until = Date.parse(h.get("x-amz-object-lock-retain-until-date") ?? "");
    const compliance = h.get("x-amz-object-lock-mode") === "COMPLIANCE" && Number.isFinite(until);
    return ok({
      sha256Hex: isSha256Hex(sha) ? sha : null,
      retainUntil: compliance ? new Date(until) : null,
      versionId: h.get("x-amz-version-id"),
    });
  }

  async function put(key: string, body: Uint8Array, putOpts: { retainUntil: Date; sha256Hex: string }): Promise<Result<ArchivePutResult, ArchiveError>> {
    const prep = preparePut(key, body, putOpts);
    if (!prep.ok) return prep;
    const p = prep.value;
    // Write-once per key, like the local store. A versioned bucket would silently stack a second
    // version on top (If-None-Match: * would be atomic on AWS, but Ceph ignores it), so look first.
    // Not atomic against a concurrent writer of the same key; batch keys have a single sealer.
    const existing = await head(key);
    if (!existing.ok) return existing;
    if (existing.value) {
      // The bytes, not the `sha256` metadata: metadata is whatever its writer said, so a forged
      // batch planted under the real batch's hash would otherwise be locked and reported archived.
      // Read by version id: the version whose retention is checked and set below.
      const stored = await read(key, p.segments, existing.value.versionId);
      if (!stored.ok) return stored;
      if (!stored.value) return err({ code: "rejected", message: `S3 GET ${key}: the version HEAD found is gone` });
      const storedSha = createHash("sha256").update(stored.value).digest("hex");
      if (storedSha !== p.sha256Hex) {
        return err({ code: "rejected", message: `S3 PUT ${key}: key already holds different content (sha256 ${storedSha})` });
      }
      // The same bytes are only "archived" under a COMPLIANCE lock at least as long as asked: an
      // object put there without one (by anyone holding the bucket's keys) could be deleted later.
      const held = existing.value.retainUntil;
      if (!held || held.getTime() < Date.parse(p.retainUntilIso)) {
        const locked = await lockExisting(key, p.segments, existing.value.versionId, p.retainUntilIso);
        if (!locked.ok) return locked;
      }
      return ok({ versionId: existing.value.versionId, etag: p.md5Hex });
    }
    const r = await send(`PUT ${key}`, objectUrl(p.segments), {
      method: "PUT",
      body,
      headers: {
        "Content-Type": "application/octet-stream",
        // AWS refuses locked PUTs without an integrity header; Ceph does not require it but verifies it.
        "Content-MD5": p.md5Base64,
        // The real payload hash instead of UNSIGNED-PAYLOAD: it is part of the signature, so a body
        // altered in flight is rejected by the server.
        "X-Amz-Content-Sha256": p.sha256Hex,
        "x-amz-meta-sha256": p.sha256Hex,
        "x-amz-object-lock-mode": "COMPLIANCE",
        "x-amz-object-lock-retain-until-date": p.retainUntilIso,
      },
    });
    if (!r.ok) return r;
    if (r.value.status !== 200) return err(failure(`PUT ${key}`, r.value));
    return ok({
      versionId: r.value.headers.get("x-amz-version-id"),
      etag: (r.value.headers.get("etag") ?? p.md5Hex).replace(/"/g, ""),
    });
  }

  /** Sets (or extends: COMPLIANCE never shortens) the retention of the version already stored. */
  async function lockExisting(key: string, segments: string[], versionId: string | null, retainUntilIso: string): Promise<Result<true, ArchiveError>> {
    const xml = `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>COMPLIANCE</Mode><RetainUntilDate>${retainUntilIso}</RetainUntilDate></Retention>`;
    const bytes = new TextEncoder().encode(xml);
    const version = versionId ? `&versionId=${encodeURIComponent(versionId)}` : "";
    const r = await send(`PUT ${key}?retention`, `${objectUrl(segments)}?retention${version}`, {
      method: "PUT",
      body: bytes,
      headers: { "Content-Type": "application/xml", "Content-MD5": createHash("md5").update(bytes).digest("base64") },
    });
    if (!r.ok) return r;
    if (r.value.status !== 200) return err(failure(`PUT ${key}?retention`, r.value));
    return ok(true);
  }

  async function get(key: string): Promise<Result<Uint8Array | null, ArchiveError>> {
    const segments = checkKey(key);
    if (!segments.ok) return segments;
    return read(key, segments.value, null);
  }

  /** The object's bytes (of one version when `versionId` is given), or null when there is none. */
  async function read(key: string, segments: string[], versionId: string | null): Promise<Result<Uint8Array | null, ArchiveError>> {
    const version = versionId ? `?versionId=${encodeURIComponent(versionId)}` : "";
    const r = await send(`GET ${key}`, objectUrl(segments) + version, { method: "GET" });
    if (!r.ok) return r;
    if (r.value.status === 404 && xmlTag(Buffer.from(r.value.body).toString("utf8"), "Code") !== "NoSuchBucket") return ok(null);
    if (r.value.status !== 200) return err(failure(`GET ${key}`, r.value));
    return ok(r.value.body);
  }

  async function objectLockEnabled(): Promise<Result<boolean | "no-bucket", ArchiveError>> {
    const r = await send("GET ?object-lock", `${bucketUrl}?object-lock`, { method: "GET" });
    if (!r.ok) return r;
    const text = Buffer.from(r.value.body).toString("utf8");
    if (r.value.status === 200) return ok(xmlTag(text, "ObjectLockEnabled") === "Enabled");
    const code = xmlTag(text, "Code");
    if (r.value.status === 404 && code === "NoSuchBucket") return ok("no-bucket");
    if (r.value.status === 404 && code === "ObjectLockConfigurationNotFoundError") return ok(false);
    return err(failure(`GET ${opts.bucket}?object-lock`, r.value));
  }

  async function ensureBucket(): Promise<Result<{ created: boolean }, ArchiveError>> {
    let state = await objectLockEnabled();
    if (!state.ok) return state;
    let created = false;
    if (state.value === "no-bucket") {
      const r = await send(`PUT bucket ${opts.bucket}`, bucketUrl, {
        method: "PUT",
        headers: { "x-amz-bucket-object-lock-enabled": "true" },
        ...createBucketBody(awsHost, opts.region),
      });
      if (!r.ok) return r;
      const code = xmlTag(Buffer.from(r.value.body).toString("utf8"), "Code");
      // Owned-by-you: another instance created it between our check and our PUT.
      if (r.value.status !== 200 && code !== "BucketAlreadyOwnedByYou") return err(failure(`PUT bucket ${opts.bucket}`, r.value));
      created = r.value.status === 200;
      state = await objectLockEnabled();
      if (!state.ok) return state;
    }
    if (state.value !== true) {
      return err({ code: "misconfigured", message: `S3 bucket ${opts.bucket} has no Object Lock enabled: archived batches could be deleted` });
    }
    return ok({ created });
  }

  return { kind: "s3", put, head, get, ensureBucket };
}

// AWS wants a LocationConstraint body outside us-east-1; Ceph rejects any that does not name its
// zonegroup (400 InvalidLocationConstraint), so only AWS hosts get one.
function createBucketBody(awsHost: boolean, region: string): { body?: Uint8Array } {
  if (!awsHost || region === "us-east-1") return {};
  const xml = `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`;
  return { body: new TextEncoder().encode(xml) };
}

function configurationProblem(opts: S3ArchiveOptions, base: string): string | null {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return `S3 endpoint ${JSON.stringify(opts.endpoint)} is not a URL`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `S3 endpoint must be http(s): ${opts.endpoint}`;
  if (url.search || url.hash) return `S3 endpoint must not have a query or fragment: ${opts.endpoint}`;
  if (!BUCKET_NAME.test(opts.bucket)) return `invalid S3 bucket name ${JSON.stringify(opts.bucket)}`;
  if (!opts.region) return "S3 region is required (any value for Ceph RGW, e.g. us-east-1)";
  if (!opts.accessKeyId || !opts.secretAccessKey) return "S3 access key id and secret access key are required";
  const t = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(t) || t <= 0) return "S3 timeoutMs must be a positive integer";
  return null;
}
