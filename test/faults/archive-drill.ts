import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { agentBody } from "../../origin/test/harness.ts";
import { createS3Admin, type S3Admin, type S3Env } from "../support/s3-admin.ts";
import { freePort, pollUntil, startOrigin, systemFixture, type Proc } from "../support/system.ts";

/**
 * What the archive fault drills share: a real origin process archiving its audit log into a real
 * S3 with Object Lock (Ceph RGW, scripts/worm-s3/ceph-up.sh), writes that the API acknowledges,
 * and a verification of the WORM objects that trusts nothing but the objects themselves and the
 * origin's signed tree head.
 */
export const ARCHIVE_BATCH = 5;
const KEY = /^audit\/[0-9a-f-]{36}\/(\d{12})-(\d{12})-[0-9a-f]{16}\.jsonl$/;

export interface ArchivingOrigin {
  bucket: string;
  adminKey: string;
  proc(): Proc;
  api(method: string, path: string, body?: unknown): Promise<Response>;
  kill9(): Promise<void>;
  /** Same data dir, same bucket, new port: what a supervisor does after a crash. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** An origin process (PGlite on disk) archiving to `endpoint` in a bucket of its own. */
export async function archivingOrigin(s3: S3Env, endpoint: string): Promise<ArchivingOrigin> {
  const fx = systemFixture();
  // COMPLIANCE objects can't be deleted: a bucket per drill, created by the origin.
  const bucket = `kakunin-fault-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  const opts = {
    dataDir: join(fx.dir, "origin"),
    edgeUrl: `http://127.0.0.1:${await freePort()}`,
    secret: fx.secret,
    adminKey: fx.adminKey,
    env: {
      KAKUNIN_ARCHIVE: "s3",
      KAKUNIN_S3_ENDPOINT: endpoint,
      KAKUNIN_S3_REGION: s3.region,
      KAKUNIN_S3_BUCKET: bucket,
      KAKUNIN_S3_ACCESS_KEY_ID: s3.accessKeyId,
      KAKUNIN_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      KAKUNIN_ARCHIVE_BATCH: String(ARCHIVE_BATCH),
      KAKUNIN_ARCHIVE_MAX_AGE_S: "1",
      // No edge in these drills and no RSA pool: neither is under test.
      KAKUNIN_PUBLISH: "off",
      KAKUNIN_LOCAL_KEY_POOL: "0",
    },
  };
  let current: Proc | null = await startOrigin(opts);
  const proc = (): Proc => {
    if (!current) throw new Error("origin not running");
    return current;
  };
  return {
    bucket,
    adminKey: fx.adminKey,
    proc,
    api: (method, path, body) =>
      fetch(`${proc().url}${path}`, {
        method,
        headers: { authorization: `Bearer ${fx.adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(15_000),
      }),
    kill9: async () => {
      const p = proc();
      current = null;
      await p.stop("SIGKILL");
    },
    restart: async () => {
      if (current) throw new Error("origin still running");
      current = await startOrigin(opts);
    },
    stop: async () => {
      await current?.stop();
      current = null;
      fx.cleanup();
    },
  };
}

/** `n` POST /v1/agents, 4 in flight; ids of the 201s go to `acked` as they arrive, failures are counted. */
export async function burst(o: ArchivingOrigin, n: number, acked: string[] = []): Promise<{ acked: string[]; failed: number }> {
  let failed = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      next++;
      try {
        const r = await o.api("POST", "/v1/agents", agentBody({ name: `archive-fault-${next}` }));
        if (r.status === 201) acked.push(((await r.json()) as { data: { id: string } }).data.id);
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  return { acked, failed };
}

export async function logSize(o: ArchivingOrigin): Promise<number> {
  const r = await o.api("GET", "/v1/audit/tree-head");
  return ((await r.json()) as { data: { tree_size: number } }).data.tree_size;
}

interface Version {
  key: string;
  first: number;
  last: number;
  versionId: string;
}

async function versions(s3: S3Admin, bucket: string, tenant: string): Promise<Version[]> {
  const listing = await s3.listVersions(bucket, `audit/${tenant}/`);
  if (listing.deleteMarkers.length) throw new Error(`${listing.deleteMarkers.length} delete marker(s) in the archive`);
  // Signed tree heads are archived beside the batches (docs/evidence-format.md); the batches are what is checked here.
  return listing.versions
    .filter((v) => !v.key.startsWith(`audit/${tenant}/tree-heads/`))
    .map((v) => {
      const m = KEY.exec(v.key);
      if (!m) throw new Error(`unexpected object key ${v.key}`);
      return { key: v.key, first: Number(m[1]), last: Number(m[2]), versionId: v.versionId };
    });
}

/** Waits until the archive reaches entry n-1; returns the time it took. */
export async function waitArchived(s3: S3Admin, o: ArchivingOrigin, tenant: string, n: number, timeoutMs: number): Promise<number> {
  const r = await pollUntil(async () => ((await versions(s3, o.bucket, tenant)).some((v) => v.last >= n - 1) ? true : undefined), timeoutMs, 200).catch(
    async (e: unknown) => {
      const vs = await versions(s3, o.bucket, tenant);
      throw new Error(
        `entries 0..${n - 1} not archived: ${String(e)}; objects ${vs.map((v) => `${v.first}-${v.last}`).join(" ") || "none"}\n${o.proc().log().slice(-3000)}`,
      );
    },
  );
  return r.ms;
}

const sha256 = (b: Uint8Array | string): Buffer => createHash("sha256").update(b).digest();
const leaf = (line: string): Buffer => sha256(Buffer.concat([Buffer.of(0), Buffer.from(line)]));
/** RFC 9162 §2.1.1 Merkle Tree Hash. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.concat([Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k))]));
}

export interface ArchiveCheck {
  /** Entries in the archive (distinct indices). */
  entries: number;
  /** Entries stored more than once: extra versions of a key, or overlapping key ranges. */
  duplicates: number;
  /** Indices missing between 0 and the last archived one. */
  gaps: number;
  /** Agent ids of the `agent.created` entries archived. */
  agentsCreated: Set<string>;
  /** Problems found verifying the WORM objects (empty: they verify). */
  problems: string[];
}

/**
 * Verifies the tenant's archive from the objects alone: every version COMPLIANCE-locked with a
 * retain-until in the future and its content hash as metadata; keys contiguous from 0 without
 * overlap; every line's `index` its position and `prev` the leaf hash of the line before (the hash
 * chain); and the Merkle root over all archived lines equal to the origin's signed tree head.
 */
export async function checkArchive(s3: S3Admin, o: ArchivingOrigin, tenant: string): Promise<ArchiveCheck> {
  const vs = await versions(s3, o.bucket, tenant);
  const problems: string[] = [];
  const byKey = new Map<string, Version[]>();
  for (const v of vs) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
  let duplicates = 0;
  for (const list of byKey.values()) duplicates += (list.length - 1) * (list[0]!.last - list[0]!.first + 1);
  const ranges = [...byKey.values()].map((l) => l[0]!).sort((a, b) => a.first - b.first);
  const lines: string[] = [];
  let gaps = 0;
  let next = 0;
  for (const r of ranges) {
    if (r.first < next) duplicates += Math.min(next, r.last + 1) - r.first;
    if (r.first > next) gaps += r.first - next;
    const head = await s3.head(o.bucket, r.key, r.versionId);
    const text = await s3.getText(o.bucket, r.key);
    if (head.headers.get("x-amz-object-lock-mode") !== "COMPLIANCE") problems.push(`${r.key}: not COMPLIANCE-locked`);
    if (!(Date.parse(head.headers.get("x-amz-object-lock-retain-until-date") ?? "") > Date.now())) problems.push(`${r.key}: no retention in the future`);
    if (head.headers.get("x-amz-meta-sha256") !== sha256(text).toString("hex")) problems.push(`${r.key}: content does not match its sha256`);
    const objLines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : [];
    if (objLines.length !== r.last - r.first + 1) problems.push(`${r.key}: ${objLines.length} lines for ${r.last - r.first + 1} entries`);
    if (r.first >= next) lines.push(...objLines);
    next = Math.max(next, r.last + 1);
  }
  const agentsCreated = new Set<string>();
  lines.forEach((line, i) => {
    const e = JSON.parse(line) as { index: number; prev: string | null; kind: string; agent_id: string | null };
    if (e.index !== i) problems.push(`line ${i} has index ${e.index}`);
    const want = i === 0 ? null : leaf(lines[i - 1]!).toString("hex");
    if (e.prev !== want) problems.push(`entry ${i}: prev does not chain to entry ${i - 1}`);
    if (e.kind === "agent.created" && e.agent_id) agentsCreated.add(e.agent_id);
  });
  const th = (await (await o.api("GET", "/v1/audit/tree-head")).json()) as { data: { tree_size: number; root_hash: string } };
  if (th.data.tree_size !== lines.length) problems.push(`signed tree head has ${th.data.tree_size} entries, the archive ${lines.length}`);
  else if (lines.length && mth(lines.map(leaf)).toString("hex") !== th.data.root_hash)
    problems.push("Merkle root of the archive differs from the signed tree head");
  return { entries: lines.length, duplicates, gaps, agentsCreated, problems };
}

export async function tenantOf(o: ArchivingOrigin): Promise<string> {
  return ((await (await o.api("GET", "/v1/tenant")).json()) as { data: { id: string } }).data.id;
}

export { createS3Admin };
