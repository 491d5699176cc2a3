import { AwsClient } from "aws4fetch";

/** The real S3 server (Ceph RGW from scripts/worm-s3/ceph-up.sh) that the S3 tests talk to. */
export interface S3Env {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export const S3_MISSING =
  "S3_ENDPOINT/S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY/S3_REGION unset; start Ceph RGW with " +
  'S3ENV=$(bash scripts/worm-s3/ceph-up.sh); set -a; eval "$S3ENV"; set +a (stop: bash scripts/worm-s3/ceph-down.sh)';

/** The S3 settings from the environment ceph-up.sh prints, or null when any is missing. */
export function s3EnvFromProcess(env: NodeJS.ProcessEnv = process.env): S3Env | null {
  if (!env.S3_ENDPOINT || !env.S3_ACCESS_KEY_ID || !env.S3_SECRET_ACCESS_KEY || !env.S3_REGION) return null;
  return { endpoint: env.S3_ENDPOINT, accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY, region: env.S3_REGION };
}

export interface S3Reply {
  status: number;
  headers: Headers;
  text: string;
}

export interface ObjectVersion {
  key: string;
  versionId: string;
  isLatest: boolean;
}

export interface VersionListing {
  versions: ObjectVersion[];
  deleteMarkers: ObjectVersion[];
}

export interface S3Admin {
  /** A signed request outside the origin's ArchiveStore: what an operator (or attacker) with the keys sees. */
  request(method: string, path: string, headers?: Record<string, string>, body?: string): Promise<S3Reply>;
  /** Every version and delete marker under `prefix` (all pages), in S3's order: by key, newest first. */
  listVersions(bucket: string, prefix: string): Promise<VersionListing>;
  /** The latest version's bytes as text; throws unless 200. */
  getText(bucket: string, key: string): Promise<string>;
  head(bucket: string, key: string, versionId?: string): Promise<S3Reply>;
  deleteVersion(bucket: string, key: string, versionId: string): Promise<S3Reply>;
}

const tag = (xml: string, t: string): string | null => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1] ?? null;
const blocks = (xml: string, t: string): string[] => [...xml.matchAll(new RegExp(`<${t}>([\\s\\S]*?)</${t}>`, "g"))].map((m) => m[1]!);
// Listing XML escapes keys; ours never need it, but an unescaped "&amp;" would silently miscompare.
const unescapeXml = (s: string): string =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
const objectPath = (bucket: string, key: string): string => `/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;

export function createS3Admin(env: S3Env): S3Admin {
  // service/region explicit (aws4fetch guesses '' for 127.0.0.1 → 403); retries 0 to see the first answer.
  const client = new AwsClient({ accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey, service: "s3", region: env.region, retries: 0 });
  const base = env.endpoint.replace(/\/+$/, "");

  async function request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<S3Reply> {
    // aws4fetch has no timeout; a wedged RGW must fail the test, not hang it.
    const res = await client.fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(15_000) });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  async function listVersions(bucket: string, prefix: string): Promise<VersionListing> {
    const out: VersionListing = { versions: [], deleteMarkers: [] };
    let marker: { key: string; version: string } | null = null;
    for (let page = 0; page < 1000; page++) {
      const q = [`versions`, `prefix=${encodeURIComponent(prefix)}`];
      if (marker) q.push(`key-marker=${encodeURIComponent(marker.key)}`, `version-id-marker=${encodeURIComponent(marker.version)}`);
      const r = await request("GET", `/${bucket}?${q.join("&")}`);
      if (r.status !== 200) throw new Error(`list versions ${bucket}/${prefix}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
      const parse = (b: string): ObjectVersion => ({
        key: unescapeXml(tag(b, "Key") ?? ""),
        versionId: tag(b, "VersionId") ?? "",
        isLatest: tag(b, "IsLatest") === "true",
      });
      out.versions.push(...blocks(r.text, "Version").map(parse));
      out.deleteMarkers.push(...blocks(r.text, "DeleteMarker").map(parse));
      if (tag(r.text, "IsTruncated") !== "true") return out;
      const key = tag(r.text, "NextKeyMarker");
      const version = tag(r.text, "NextVersionIdMarker");
      if (!key || !version) throw new Error(`list versions ${bucket}/${prefix}: truncated without a next marker`);
      marker = { key: unescapeXml(key), version };
    }
    throw new Error(`list versions ${bucket}/${prefix}: more than 1000 pages`);
  }

  async function getText(bucket: string, key: string): Promise<string> {
    const r = await request("GET", objectPath(bucket, key));
    if (r.status !== 200) throw new Error(`GET ${bucket}/${key}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    return r.text;
  }

  const versionQuery = (versionId?: string): string => (versionId ? `?versionId=${encodeURIComponent(versionId)}` : "");
  return {
    request,
    listVersions,
    getText,
    head: (bucket, key, versionId) => request("HEAD", `${objectPath(bucket, key)}${versionQuery(versionId)}`),
    deleteVersion: (bucket, key, versionId) => request("DELETE", `${objectPath(bucket, key)}${versionQuery(versionId)}`),
  };
}
