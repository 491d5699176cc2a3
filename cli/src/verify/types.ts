import type { EvidenceBundleHeader } from "@kakunin/shared";

export type CheckId = "format" | "chain" | "tree_head" | "entries" | "completeness" | "header" | "consistency" | "validity";

/** One thing found wrong, named precisely enough to look it up in the bundle. */
export interface Failure {
  /** What is broken: "entry 57 (event.ingested)", "tree head", "certificate 4a…", "root CA". */
  subject: string;
  /** Bundle index, when the failure is about one entry. */
  index?: number;
  kind?: string;
  reasons: string[];
}

export interface CheckResult {
  id: CheckId;
  title: string;
  /** "pass", "fail", or "skipped" when an earlier failure left nothing to check against. */
  status: "pass" | "fail" | "skipped";
  /** One human line of counts, without the ✓/✗ mark. */
  summary: string;
  failures: Failure[];
  /** Extra facts worth printing under the line (trust anchor, warnings). */
  notes: string[];
}

export interface TrustAnchor {
  subject: string;
  sha256: string;
  /** True when --root was given and matched; false means the verifier must check the fingerprint. */
  pinned: boolean;
}

export interface VerifyReport {
  ok: boolean;
  format: string | null;
  tenant: { id: string; name: string } | null;
  agent_id: string | null;
  tree_head: { tree_size: number; root_hash: string; timestamp: string } | null;
  trust_anchor: TrustAnchor | null;
  counts: { entries: number; events: number; events_valid: number; chain_links: number };
  checks: CheckResult[];
  summary: string;
}

export interface VerifyOptions {
  /** PEM of the root CA the verifier trusts; without it the chain check fails (unpinned anchor). */
  rootPem?: string;
  /** Where rootPem came from, for the report ("--root" by default). */
  rootSource?: string;
  /** An earlier signed tree head (parsed JSON) the bundle must be consistent with. */
  sinceTreeHead?: unknown;
  /** The deployment's OID arc (`KAKUNIN_OID_ARC`); the default arc when omitted. */
  oidArc?: string;
}

/** A bundle's header (v2 or v3) that passed the structural check: every field the checks read has its type. */
export type Bundle = EvidenceBundleHeader;
