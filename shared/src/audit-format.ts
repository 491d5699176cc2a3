/**
 * The evidence bundle: one self-contained JSON document a compliance officer can hand to anyone,
 * checked offline by `kakunin audit verify`. Every claim in it is either signed (certificates by
 * the CA, the tree head by the tenant's audit key) or hashed into the signed tree (entries, via
 * RFC 9162 inclusion proofs).
 */
export const EVIDENCE_FORMAT = "kakunin-evidence/3";

/** The previous format (one audit path per entry): still exported on request and still verified. */
export const EVIDENCE_FORMAT_V2 = "kakunin-evidence/2";

/** Formats the origin writes and `kakunin audit verify` checks. */
export const EVIDENCE_FORMATS = [EVIDENCE_FORMAT, EVIDENCE_FORMAT_V2] as const;
export type EvidenceFormat = (typeof EVIDENCE_FORMATS)[number];

/** Formats `kakunin audit verify` recognises but refuses, with the reason it gives. */
export const RETIRED_EVIDENCE_FORMATS: Readonly<Record<string, string>> = {
  "kakunin-evidence/1":
    "kakunin-evidence/1 bundles prove neither who signed the tree head (any certificate of the issuing CA was accepted) nor " +
    "completeness (entries could be deleted); export the bundle again from an origin that writes kakunin-evidence/2",
};

/**
 * Domain separation: every signed tree-head message starts with these bytes, and nothing else the
 * system signs can: certificates, CRLs and OCSP responses are DER (first byte 0x30), and
 * `POST /v1/agents/:id/sign` refuses payloads that start with this prefix.
 */
export const TREE_HEAD_CONTEXT = "kakunin-signed-tree-head/v2\n";

/** `urn:kakunin:tenant:<uuid>`: the SAN URI naming the tenant in issuing-CA and audit certificates. */
export function tenantUrn(tenantId: string): string {
  return `urn:kakunin:tenant:${tenantId}`;
}

/**
 * Entry kinds about an agent that are activity, not lifecycle: they are chained in the agent's
 * chain but not in its lifecycle chain, so a windowed bundle can leave out activity outside the
 * window while still proving it holds every lifecycle entry (issuance, revocation, risk decision…).
 */
export const AGENT_ACTIVITY_KINDS: ReadonlySet<string> = new Set(["event.ingested", "key.signed", "evidence.exported"]);

/** The entry kind the origin appends at each export: the bundle's last entry, closing the agent's chain. */
export const EXPORT_CHECKPOINT_KIND = "evidence.exported";

export interface TreeHeadBody {
  tenant_id: string;
  tree_size: number;
  root_hash: string;
  timestamp: string;
}

/**
 * What a tree-head signature covers: the context string, then RFC 8785 canonical JSON of exactly
 * these four fields.
 */
export function treeHeadMessage(h: TreeHeadBody): string {
  // Keys in code-point order, values JSON-escaped: this is the canonical form of the object.
  return `${TREE_HEAD_CONTEXT}{"root_hash":${JSON.stringify(h.root_hash)},"tenant_id":${JSON.stringify(h.tenant_id)},"timestamp":${JSON.stringify(h.timestamp)},"tree_size":${h.tree_size}}`;
}

/**
 * Whether `signature` is the tenant audit key's RSASSA-PKCS1-v1_5 / SHA-256 signature over
 * `treeHeadMessage(h)` under `spki` (DER SubjectPublicKeyInfo): what the origin checks of a head it
 * signed before signing the next, and `kakunin audit verify` of the heads a bundle brings. False
 * for a key or signature that is not one (not RSA, malformed): the head is then not verified.
 */
export async function treeHeadSignatureValid(spki: ArrayBuffer | Uint8Array, signature: ArrayBuffer | Uint8Array, h: TreeHeadBody): Promise<boolean> {
  try {
    const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    // Copies over a plain ArrayBuffer, whatever backed the caller's bytes (a Node Buffer, a bytea column).
    const key = await crypto.subtle.importKey("spki", new Uint8Array(spki), alg, false, ["verify"]);
    return await crypto.subtle.verify(alg, key, new Uint8Array(signature), new TextEncoder().encode(treeHeadMessage(h)));
  } catch {
    return false;
  }
}

export interface EvidenceTreeHead extends TreeHeadBody {
  signature: string;
  signature_algorithm: "RSASSA_PKCS1_V1_5_SHA_256";
  signer_serial: string;
  signer_certificate_pem: string;
}

export interface EvidenceEntry {
  index: number;
  kind: string;
  leaf_hash: string;
  /** The exact canonical JSON that was hashed (the leaf is SHA-256(0x00 || UTF-8 of this)). */
  canonical: string;
  /** Inclusion proof in the tree of `tree_head.tree_size` (hex, RFC 9162 §2.1.3). */
  audit_path: string[];
}

export interface EvidenceCertificate {
  id: string;
  serial_number: string;
  certificate_pem: string;
  status: "active" | "renewed" | "superseded" | "revoked" | "expired";
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
  revocation_reason: string | null;
}

export interface EvidenceArchiveObject {
  object_key: string;
  first_index: number;
  last_index: number;
  sha256: string;
  store: "local" | "s3";
  archived_at: string | null;
  /**
   * The S3 version that holds the batch (null: local store, or not archived yet). Object Lock does
   * not stop another version being put on top of the key, and a plain GET returns the newest:
   * fetch this one (`aws s3api get-object --version-id`).
   */
  version_id: string | null;
  /** Until when the archived object is locked (COMPLIANCE); null while not archived. */
  retain_until: string | null;
}

/** Everything of a bundle except its entries and archive pointers (the same in v2 and v3). */
export interface EvidenceBundleHeader {
  format: EvidenceFormat;
  generated_at: string;
  tenant: { id: string; name: string };
  agent: Record<string, unknown> & { id: string };
  window: { from: string | null; to: string | null };
  /** Issuing CA then root (PEM). */
  ca_chain_pem: string;
  /**
   * The tenant's earlier (rolled-over) issuing CAs, PEM, newest first; absent when it never rolled
   * over. Certificates issued before a rollover, and tree heads signed then, chain to one of them
   * (each signed by the root in `ca_chain_pem`).
   */
  earlier_issuers_pem?: string;
  certificates: EvidenceCertificate[];
  tree_head: EvidenceTreeHead;
  /**
   * Present when the export was asked `since_size`: an RFC 9162 consistency proof (hex) from the
   * tenant's tree of `from_size` entries to `tree_head`, for `kakunin audit verify --since-tree-head`.
   */
  consistency?: { from_size: number; proof: string[] };
}

/** `kakunin-evidence/2`: every entry with its own audit path. */
export interface EvidenceBundleV2 extends EvidenceBundleHeader {
  format: typeof EVIDENCE_FORMAT_V2;
  entries: EvidenceEntry[];
  archive: EvidenceArchiveObject[];
}

/** An audit entry as v3 carries it: the entry object itself, its JSON text byte-for-byte the hashed canonical text. */
export type AuditEntryJson = Record<string, unknown> & { index: number; kind: string };

/**
 * `kakunin-evidence/3` (docs/evidence-format.md): `entries` lists the audit entries in log order,
 * each as its canonical JSON verbatim, and before each entry (and after the last) whose leaves
 * are not adjacent, one base64 string: the concatenated hashes of the maximal subtrees covering
 * the leaves in between (shared/src/merkle/multiproof.ts). One multiproof for the whole bundle.
 */
export interface EvidenceBundle extends EvidenceBundleHeader {
  format: typeof EVIDENCE_FORMAT;
  entries: (AuditEntryJson | string)[];
  archive: EvidenceArchiveObject[];
}

/** The audit entries of a bundle of either format, parsed, in bundle order (proof nodes skipped). */
export function bundleAuditEntries(b: EvidenceBundle | EvidenceBundleV2): AuditEntryJson[] {
  if (b.format === EVIDENCE_FORMAT_V2) return b.entries.map((e) => JSON.parse(e.canonical) as AuditEntryJson);
  return b.entries.filter((e): e is AuditEntryJson => typeof e !== "string");
}
