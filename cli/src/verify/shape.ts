/**
 * Structural check of an untrusted bundle before any cryptography: every field a later check
 * reads must be present with its JSON type, so those checks can stay free of defensive code and
 * a malformed bundle is reported as such instead of crashing mid-verification.
 */
import { EVIDENCE_FORMAT, EVIDENCE_FORMAT_V2, EVIDENCE_FORMATS, RETIRED_EVIDENCE_FORMATS } from "@kakunin/shared";

type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The saved HTTP response `{"data": bundle}` or the bare bundle: an object whose only member is
 * `data` is the envelope, as the streaming reader (json-stream.bundleParts) decides it.
 */
export function unwrap(doc: unknown): unknown {
  return isRecord(doc) && Object.keys(doc).length === 1 && isRecord(doc.data) ? doc.data : doc;
}

const isStr = (v: unknown): v is string => typeof v === "string";
const isSize = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function fields(where: string, v: unknown, spec: Record<string, (x: unknown) => boolean>, out: string[]): void {
  if (!isRecord(v)) {
    out.push(`${where} is not an object`);
    return;
  }
  for (const [name, ok] of Object.entries(spec)) if (!ok(v[name])) out.push(`${where}.${name} is missing or has the wrong type`);
}

const strOrNull = (v: unknown): boolean => v === null || isStr(v);

/** Problems with the bundle's shape (empty when it is a well-formed current-format bundle). */
export function shapeProblems(b: unknown): string[] {
  const out: string[] = [];
  if (!isRecord(b)) return ["the document is not a JSON object"];
  const retired = typeof b.format === "string" ? RETIRED_EVIDENCE_FORMATS[b.format] : undefined;
  if (retired) return [`format ${b.format} is no longer accepted: ${retired}`];
  if (!(EVIDENCE_FORMATS as readonly unknown[]).includes(b.format)) {
    out.push(`format is ${JSON.stringify(b.format) ?? "missing"}, expected "${EVIDENCE_FORMAT}" (or "${EVIDENCE_FORMAT_V2}")`);
    return out;
  }
  fields("bundle", b, { ca_chain_pem: isStr, certificates: Array.isArray, entries: Array.isArray }, out);
  if (b.earlier_issuers_pem !== undefined && !isStr(b.earlier_issuers_pem)) out.push("bundle.earlier_issuers_pem has the wrong type");
  fields("tenant", b.tenant, { id: isStr, name: isStr }, out);
  fields("agent", b.agent, { id: isStr }, out);
  fields("window", b.window, { from: strOrNull, to: strOrNull }, out);
  fields("tree_head", b.tree_head, {
    tenant_id: isStr, tree_size: isSize, root_hash: isStr, timestamp: isStr, signature: isStr,
    signature_algorithm: (v) => v === "RSASSA_PKCS1_V1_5_SHA_256", signer_certificate_pem: isStr,
  }, out);
  // Read only with --since-tree-head, but never trusted to be what the consistency check expects.
  if (b.consistency !== undefined) {
    fields("consistency", b.consistency, { from_size: isSize, proof: (v) => Array.isArray(v) && v.every(isStr) }, out);
  }
  if (Array.isArray(b.certificates)) {
    b.certificates.forEach((c, i) => fields(`certificates[${i}]`, c, { serial_number: isStr, certificate_pem: isStr, revoked_at: strOrNull }, out));
  }
  if (Array.isArray(b.entries) && b.format === EVIDENCE_FORMAT_V2) b.entries.forEach((e, i) => out.push(...entryShapeProblems(`entries[${i}]`, e)));
  return out;
}

/** Problems with one v2 entry's shape (the streaming verifier checks entries one at a time; v3's are checked by EntryCheckerV3). */
export function entryShapeProblems(where: string, e: unknown): string[] {
  const out: string[] = [];
  fields(where, e, {
    index: isSize, kind: isStr, leaf_hash: isStr, canonical: isStr, audit_path: (v) => Array.isArray(v) && v.every(isStr),
  }, out);
  return out;
}

