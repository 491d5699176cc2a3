/**
 * `kakunin audit check-archive`: a tenant's WORM archive (docs/archive.md) verified from its
 * objects alone, as a compliance officer downloads them (`aws s3 cp --recursive
 * s3://<bucket>/audit/<tenant>/ DIR`, or the local store's `audit/<tenant>/`), against the signed
 * tree heads archived beside them and a pinned CA chain. Nothing the origin's database says is
 * trusted. What it proves, and how tampering shows:
 * - the batch objects hold entries 0..n-1 contiguously, each line's `index` its position and its
 *   `prev` the leaf hash of the line before: a removed object (a delete marker hides the latest
 *   version) is a gap, an overlapping or reshaped one is named;
 * - every archived tree head is signed by the tenant's audit certificate, chaining to the pinned
 *   root; a head the archive reaches must have exactly the root hash of the archived entries
 *   before it (RFC 9162): an object replaced by another version (S3 keeps the original, locked,
 *   underneath) or edited changes that root.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { EVIDENCE_FORMAT, type EvidenceTreeHead, type KakuninOids } from "@kakunin/shared";
import { parseCertificate, signedBy, splitPem } from "../x509.ts";
import { tenantNaming } from "./binding.ts";
import { checkChain } from "./chain.ts";
import { earlierHead } from "./consistency.ts";
import { Frontier, leafHash, sha256Hex } from "./frontier.ts";
import { fmt } from "./fmt.ts";
import { checkTreeHead } from "./tree-head.ts";
import type { Bundle, CheckResult, Failure, TrustAnchor } from "./types.ts";

// `<first>-<last>-<sha256 prefix>.jsonl` (and `<first>-<last>.jsonl` from before the hash was in the key).
const BATCH = /^(\d{12})-(\d{12})(?:-([0-9a-f]{16}))?\.jsonl$/;
const HEAD = /^(\d{12})(?:-([0-9a-f]{16}))?\.json$/;
/** The local store's sidecars; S3 has none. */
const SIDECAR = ".meta.json";
const HEX32 = /^[0-9a-f]{64}$/;
/** Failures listed per check; the rest are counted. */
const MAX_LISTED = 50;

export interface ArchiveCheck {
  id: "objects" | "chain" | "tree_heads";
  title: string;
  status: CheckResult["status"];
  summary: string;
  failures: Failure[];
  notes: string[];
}

export interface ArchiveReport {
  ok: boolean;
  tenant_id: string | null;
  /** Entries the objects hold contiguously from index 0. */
  entries: number;
  objects: number;
  tree_heads: number;
  /** The largest signed tree size whose root the archived entries reproduce (0: none). */
  proven_size: number;
  trust_anchor: TrustAnchor | null;
  checks: ArchiveCheck[];
  summary: string;
}

export interface ArchiveOptions {
  /** The tenant's issuing CA then the root (GET /v1/ca `chain_pem`). */
  chainPem: string;
  rootPem?: string;
  rootSource?: string;
  oids: KakuninOids;
  /**
   * How long a signed tree head may reach past the archived entries before that counts as removed
   * objects rather than an archive that has not caught up (the archiver seals within a minute).
   */
  maxLagMs: number;
  now?: Date;
  /**
   * Signed tree heads the auditor kept outside the archive (`--tree-head`: GET /v1/audit/tree-head,
   * a bundle or its tree_head), checked like the archived ones. Delete markers can hide the newest
   * objects together with every archived head that reaches them; a head kept elsewhere still does.
   */
  heldHeads?: readonly { name: string; doc: unknown }[];
  /**
   * The tenant's retired issuing CAs (PEM; a bundle's `earlier_issuers_pem`). Each issuing CA has
   * its own audit certificate, so heads signed before a rollover chain to a retired CA, not to
   * `chainPem`'s: such a head is checked against the chain of the one that signed its signer,
   * and every one given is checked as `audit verify` checks earlier issuers.
   */
  earlierIssuersPem?: string;
}

/** The chain (issuing CA then root) for a head's signer: `chainPem`, or a given earlier issuer's that signed it. */
async function chainFor(signerPem: string, chainPem: string, earlier: readonly string[]): Promise<string> {
  const signer = parseCertificate(signerPem);
  const pems = splitPem(chainPem);
  const current = parseCertificate(pems[0] ?? "");
  if (typeof signer === "string" || earlier.length === 0 || (typeof current !== "string" && (await signedBy(signer, current)))) return chainPem;
  for (const pem of earlier) {
    const ca = parseCertificate(pem);
    if (typeof ca !== "string" && (await signedBy(signer, ca))) return `${pem}\n${pems.slice(1).join("\n")}\n`;
  }
  return chainPem;
}

/** Why `chainPem`'s issuing CA does not prove the heads' tenant (null: bound to it). */
function chainTenantProblem(chainPem: string, tenantId: string, oids: KakuninOids): string | null {
  const current = parseCertificate(splitPem(chainPem)[0] ?? "");
  if (typeof current === "string") return `cannot parse: ${current}`;
  const bound = tenantNaming(current, oids).extension;
  if (bound === null || bound === "malformed") {
    return `it carries no tenant extension (${oids.tenantExtension}): nothing ties the heads signed under an earlier issuer to the tenant of --chain`;
  }
  return bound.toLowerCase() === tenantId.toLowerCase() ? null : `the heads are signed for tenant ${tenantId}, not the tenant of --chain (${bound})`;
}

interface Batch {
  name: string;
  first: number;
  last: number;
  /** The SHA-256 prefix the key names (absent in keys from before it was added). */
  hash?: string;
}

interface Head {
  name: string;
  head: EvidenceTreeHead;
}

function limited(failures: Failure[]): Failure[] {
  if (failures.length <= MAX_LISTED) return failures;
  return [...failures.slice(0, MAX_LISTED), { subject: "more", reasons: [`${fmt(failures.length - MAX_LISTED)} further problem(s) not listed`] }];
}

function check(id: ArchiveCheck["id"], title: string, failures: Failure[], pass: string, fail: string, notes: string[] = []): ArchiveCheck {
  return { id, title, status: failures.length ? "fail" : "pass", summary: failures.length ? fail : pass, failures: limited(failures), notes };
}

async function listDir(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (e instanceof Error && "code" in e && e.code === "ENOENT") return null;
    throw e;
  }
}

/** A head file's JSON, shaped as the archiver writes it; a reason when it is not. */
function parseHead(text: string, name: string, size: number): EvidenceTreeHead | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a JSON object";
  const h = v as Record<string, unknown>;
  for (const f of ["tenant_id", "root_hash", "timestamp", "signature", "signer_certificate_pem"]) {
    if (typeof h[f] !== "string") return `${f} is not a string`;
  }
  if (!Number.isSafeInteger(h.tree_size) || (h.tree_size as number) < 0) return "tree_size is not a non-negative integer";
  if (h.tree_size !== size) return `its name says tree size ${fmt(size)}, its content ${String(h.tree_size)} (${name})`;
  if (!HEX32.test(h.root_hash as string)) return "root_hash is not 32 bytes of lowercase hex";
  return {
    tenant_id: h.tenant_id as string,
    tree_size: size,
    root_hash: h.root_hash as string,
    timestamp: h.timestamp as string,
    signature: h.signature as string,
    signature_algorithm: "RSASSA_PKCS1_V1_5_SHA_256",
    signer_serial: typeof h.signer_serial === "string" ? h.signer_serial : "",
    signer_certificate_pem: h.signer_certificate_pem as string,
  };
}

/** The header the bundle checks read, for one archived head: only the chain and the head are filled in. */
function headerFor(head: EvidenceTreeHead, chainPem: string, earlierIssuersPem?: string): Bundle {
  return {
    ...(earlierIssuersPem !== undefined && { earlier_issuers_pem: earlierIssuersPem }),
    format: EVIDENCE_FORMAT,
    generated_at: head.timestamp,
    tenant: { id: head.tenant_id, name: "" },
    agent: { id: "" },
    window: { from: null, to: null },
    ca_chain_pem: chainPem,
    certificates: [],
    tree_head: head,
  };
}

export async function verifyArchive(dir: string, opts: ArchiveOptions): Promise<ArchiveReport> {
  const names = await listDir(dir);
  if (names === null) throw new Error(`no such directory: ${dir}`);
  const batches: Batch[] = [];
  const ignored: string[] = [];
  for (const name of names) {
    const m = BATCH.exec(name);
    if (m) batches.push({ name, first: Number(m[1]), last: Number(m[2]), hash: m[3] });
    else if (name !== "tree-heads" && !name.endsWith(SIDECAR)) ignored.push(name);
  }
  batches.sort((a, b) => a.first - b.first || a.last - b.last);

  // Tree heads first: the roots are compared while the entries stream past.
  const headFailures: Failure[] = [];
  const heads: Head[] = [];
  for (const name of (await listDir(join(dir, "tree-heads"))) ?? []) {
    const m = HEAD.exec(name);
    if (!m) {
      if (!name.endsWith(SIDECAR)) ignored.push(`tree-heads/${name}`);
      continue;
    }
    const parsed = parseHead(await readFile(join(dir, "tree-heads", name), "utf8"), name, Number(m[1]));
    if (typeof parsed === "string") headFailures.push({ subject: `tree head ${name}`, reasons: [parsed] });
    else if (m[2] && !parsed.root_hash.startsWith(m[2]))
      headFailures.push({ subject: `tree head ${name}`, reasons: [`its key names root ${m[2]}…, its content ${parsed.root_hash}`] });
    else heads.push({ name, head: parsed });
  }
  for (const held of opts.heldHeads ?? []) {
    const name = `--tree-head ${held.name}`;
    const h = earlierHead(held.doc);
    if (typeof h === "string") headFailures.push({ subject: `tree head ${name}`, reasons: [h] });
    else if (h.tree_size < 0) headFailures.push({ subject: `tree head ${name}`, reasons: ["tree_size is not a non-negative integer"] });
    else
      heads.push({
        name,
        head: {
          ...h,
          signature_algorithm: "RSASSA_PKCS1_V1_5_SHA_256",
          signer_serial: "signer_serial" in h && typeof h.signer_serial === "string" ? h.signer_serial : "",
        },
      });
  }
  heads.sort((a, b) => a.head.tree_size - b.head.tree_size);
  const held = (h: Head): boolean => h.name.startsWith("--tree-head ");
  const tenantId = heads[0]?.head.tenant_id ?? null;
  for (const [i, h] of heads.entries()) {
    const before = heads[i - 1]?.head;
    if (before && before.tree_size === h.head.tree_size && before.root_hash !== h.head.root_hash) {
      headFailures.push({
        subject: `tree head ${h.name}`,
        reasons: [
          `a second signed root for size ${fmt(h.head.tree_size)}: the log was rewound (a database restored from a backup) or forked` +
            (held(h) || held(heads[i - 1]!) ? "" : "; the archive holds both histories"),
        ],
      });
    }
    if (h.head.tenant_id !== tenantId)
      headFailures.push({ subject: `tree head ${h.name}`, reasons: [`signed for tenant ${h.head.tenant_id}, the other heads for ${tenantId}`] });
  }

  // The chain, once per audit certificate that signed a head (a new one after a rollover).
  const chainFailures: Failure[] = [];
  const chainNotes: string[] = [];
  let anchor: TrustAnchor | null = null;
  const signers = new Map<string, Awaited<ReturnType<typeof checkChain>>>();
  const earlier = splitPem(opts.earlierIssuersPem ?? "");
  const seen = new Set<string>();
  let viaEarlier = false;
  for (const h of heads) {
    let c = signers.get(h.head.signer_certificate_pem);
    if (!c) {
      const chainPem = await chainFor(h.head.signer_certificate_pem, opts.chainPem, earlier);
      viaEarlier ||= chainPem !== opts.chainPem;
      c = await checkChain(headerFor(h.head, chainPem, opts.earlierIssuersPem), opts.rootPem, opts.oids, opts.rootSource);
      signers.set(h.head.signer_certificate_pem, c);
      anchor ??= c.anchor;
      for (const f of c.result.failures) {
        // The given earlier issuers are checked with every signer's chain: name each problem once.
        const once = f.subject.startsWith("earlier issuing CA") ? `${f.subject}: ${f.reasons.join("; ")}` : null;
        if (once !== null && seen.has(once)) continue;
        if (once !== null) seen.add(once);
        chainFailures.push({ ...f, subject: once !== null ? f.subject : `${f.subject} (signer of tree head ${h.name})` });
      }
      for (const n of c.result.notes) if (!chainNotes.includes(n)) chainNotes.push(n);
    }
    const t = await checkTreeHead(headerFor(h.head, opts.chainPem), c.signer);
    for (const f of t.failures) headFailures.push({ subject: `tree head ${h.name}`, reasons: f.reasons });
  }

  // A head checked under an earlier issuer never meets --chain's issuing CA, the one thing the
  // officer took from the tenant (GET /v1/ca): an earlier issuer is bound to the heads' own tenant,
  // so another tenant's archive, with its issuing CA given as "retired", verified against this
  // tenant's --chain. --chain's issuing CA must then be bound to the heads' tenant itself.
  if (viaEarlier && tenantId !== null) {
    const problem = chainTenantProblem(opts.chainPem, tenantId, opts.oids);
    if (problem) chainFailures.push({ subject: "issuing CA of --chain", reasons: [problem] });
  }

  // The objects, in key order: contiguous, hash-chained, and reproducing each head's root.
  const objectFailures: Failure[] = [];
  const frontier = new Frontier();
  let pending = 0; // next head to compare
  let proven = 0;
  let next = 0;
  let prevLeaf: Buffer | null = null;
  let contiguous = true;
  const compareHeads = (): void => {
    while (pending < heads.length && heads[pending]!.head.tree_size <= frontier.size) {
      const h = heads[pending++]!;
      if (h.head.tree_size < frontier.size) continue; // only reachable for size 0 before the first leaf
      if (frontier.root().toString("hex") === h.head.root_hash) proven = h.head.tree_size;
      else {
        headFailures.push({
          subject: `tree head ${h.name}`,
          reasons: [
            `the archived entries 0..${fmt(h.head.tree_size - 1)} do not reproduce its signed root: an archived object was changed or replaced by another version`,
          ],
        });
      }
    }
  };
  compareHeads();
  for (const b of batches) {
    const subject = `object ${b.name}`;
    if (b.last < b.first) {
      objectFailures.push({ subject, reasons: ["its range ends before it starts"] });
      continue;
    }
    if (b.first > next) {
      objectFailures.push({
        subject,
        reasons: [`entries ${fmt(next)}..${fmt(b.first - 1)} are in no object: removed (a delete marker hides them) or never archived`],
      });
      contiguous = false;
      prevLeaf = null; // the line before this object is missing: its first `prev` cannot be checked
    } else if (b.first < next) {
      objectFailures.push({
        subject,
        reasons: [
          `overlaps the object before it (entries from ${fmt(b.first)} were already archived up to ${fmt(next - 1)}): two histories of the log (a database restored from a backup) or a planted object`,
        ],
      });
      continue;
    }
    const text = await readFile(join(dir, b.name), "utf8");
    const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : null;
    const reasons: string[] = [];
    if (b.hash && !sha256Hex(text).startsWith(b.hash)) reasons.push(`its content's SHA-256 is not the ${b.hash}… its key names: replaced by other bytes`);
    const shape = !lines
      ? "does not end with a newline (truncated?)"
      : lines.length !== b.last - b.first + 1
        ? `holds ${fmt(lines.length)} lines for entries ${fmt(b.first)}..${fmt(b.last)}`
        : null;
    if (shape) {
      reasons.push(shape);
      // From an object of the wrong shape on, leaf positions are unknown: no root after it is computed.
      contiguous = false;
    }
    for (const [k, line] of (lines ?? []).entries()) {
      const index = b.first + k;
      let e: { index?: unknown; prev?: unknown } | null = null;
      try {
        const v: unknown = JSON.parse(line);
        if (typeof v === "object" && v !== null && !Array.isArray(v)) e = v as { index?: unknown; prev?: unknown };
      } catch {
        // reported below
      }
      const leaf = leafHash(line);
      if (!e) reasons.push(`line ${k + 1} is not a JSON object`);
      else {
        if (e.index !== index) reasons.push(`line ${k + 1} has index ${JSON.stringify(e.index)}, its position is ${fmt(index)}`);
        // After a gap the previous leaf is unknown: the gap is already the failure.
        const want = index === 0 ? null : prevLeaf?.toString("hex");
        if (want !== undefined && e.prev !== want) reasons.push(`entry ${fmt(index)}: prev does not chain to entry ${fmt(index - 1)}`);
      }
      prevLeaf = leaf;
      if (contiguous) {
        frontier.push(leaf);
        compareHeads();
      }
    }
    if (shape) prevLeaf = null; // its last line is not the entry before the next object's first
    if (reasons.length)
      objectFailures.push({ subject, reasons: reasons.slice(0, 5).concat(reasons.length > 5 ? [`and ${fmt(reasons.length - 5)} more`] : []) });
    next = b.last + 1;
  }
  const entries = frontier.size;

  const headNotes: string[] = [];
  const beyond = heads.slice(pending);
  const now = (opts.now ?? new Date()).getTime();
  const overdue = beyond.filter((h) => now - Date.parse(h.head.timestamp) > opts.maxLagMs);
  if (overdue.length) {
    const h = overdue[0]!.head;
    headFailures.push({
      subject: `tree head ${overdue[0]!.name}`,
      reasons: [
        `signed ${h.timestamp}, longer ago than the allowed archive lag, for ${fmt(h.tree_size)} entries, but the archive holds ${fmt(entries)} contiguous ones: ` +
          `entries ${fmt(entries)}..${fmt(h.tree_size - 1)} were removed from the archive (a delete marker hides an object) or never archived`,
      ],
    });
  } else if (beyond.length) {
    const top = beyond[beyond.length - 1]!.head;
    headNotes.push(
      `${fmt(beyond.length)} signed tree head(s) from the last ${fmt(Math.round(opts.maxLagMs / 1000))} s reach past the archived entries (the largest: size ${fmt(top.tree_size)}, signed ${top.timestamp}): ` +
        `entries ${fmt(entries)}..${fmt(top.tree_size - 1)} are not archived yet`,
    );
  }
  if (entries > proven) headNotes.push(`entries ${fmt(proven)}..${fmt(entries - 1)} are archived but no archived signed tree head covers them yet`);
  if (ignored.length) headNotes.push(`ignored (not archive objects): ${ignored.slice(0, 10).join(", ")}${ignored.length > 10 ? ", …" : ""}`);
  if (entries === 0) objectFailures.push({ subject: "objects", reasons: ["no archived entries from index 0: nothing to verify"] });
  if (heads.length === 0)
    headFailures.push({ subject: "tree heads", reasons: ["no signed tree head in tree-heads/: nothing proves the entries are the tenant's log"] });
  else if (entries > 0 && proven === 0) headFailures.push({ subject: "tree heads", reasons: ["no signed tree head is reproduced by the archived entries"] });

  const checks: ArchiveCheck[] = [
    check(
      "objects",
      "archive objects",
      objectFailures,
      `${fmt(batches.length)} object(s), entries 0..${fmt(entries - 1)} contiguous and hash-chained`,
      `${fmt(objectFailures.length)} problem(s) in ${fmt(batches.length)} object(s)`,
    ),
    check(
      "chain",
      "CA chain",
      chainFailures,
      heads.length ? `root pinned, ${fmt(signers.size)} audit certificate(s) signed by the issuing CA, bound to tenant ${tenantId}` : "no tree head to check",
      `${fmt(chainFailures.length)} problem(s)`,
      chainNotes,
    ),
    check(
      "tree_heads",
      "signed tree heads",
      headFailures,
      `${fmt(heads.length)} signed tree head(s) verify; the archive reproduces every one it reaches (largest: size ${fmt(proven)})`,
      `${fmt(headFailures.length)} problem(s) in ${fmt(heads.length)} tree head(s)`,
      headNotes,
    ),
  ];
  const ok = checks.every((c) => c.status === "pass");
  return {
    ok,
    tenant_id: tenantId,
    entries,
    objects: batches.length,
    tree_heads: heads.length,
    proven_size: proven,
    trust_anchor: anchor,
    checks,
    summary: ok
      ? `VERIFIED: entries 0..${fmt(proven - 1)} of tenant ${tenantId} are archived unchanged, as signed`
      : "FAILED: the archive does not prove the tenant's log (see the checks above)",
  };
}

export function renderArchiveReport(r: ArchiveReport, dir: string): string {
  const out = [`kakunin audit check-archive ${dir}`, `tenant: ${r.tenant_id ?? "unknown"}`, ""];
  for (const c of r.checks) {
    out.push(`${c.status === "pass" ? "✓" : "✗"} ${c.title}: ${c.summary}`);
    for (const f of c.failures) for (const reason of f.reasons) out.push(`    ${f.subject}: ${reason}`);
    for (const n of c.notes) out.push(`    note: ${n}`);
  }
  out.push("", r.summary, "");
  return out.join("\n");
}
