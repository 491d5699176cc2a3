/**
 * Check "consistent with the earlier tree head" (`--since-tree-head FILE`): the verifier holds a
 * tree head it saw before (from GET /v1/audit/tree-head or an earlier bundle). That head must be
 * genuine by the same rules as the bundle's (signed by an audit certificate of the bundle's issuing
 * CA, bound to the same tenant), and the bundle's RFC 9162 consistency proof must show the bundle's
 * tree is an append-only extension of it: nothing the earlier head committed to was rewritten.
 */
import { treeHeadSignatureValid, verifyConsistency, type KakuninOids, type TreeHeadBody } from "@kakunin/shared";
import { parseCertificate, signedByOneOf, type x509 } from "../x509.ts";
import { bindingProblems, hasAuditEku } from "./binding.ts";
import { isRecord } from "./shape.ts";
import type { Bundle, CheckResult } from "./types.ts";
import { fmt } from "./fmt.ts";

const HEX32 = /^[0-9a-f]{64}$/;

/** An earlier signed tree head as saved: `{data: head}`, a bare head, or a bundle (its tree_head). */
export function earlierHead(doc: unknown): (TreeHeadBody & { signature: string; signer_certificate_pem: string }) | string {
  let h: unknown = isRecord(doc) && isRecord(doc.data) ? doc.data : doc;
  if (isRecord(h) && isRecord(h.tree_head)) h = h.tree_head;
  if (!isRecord(h)) return "not a JSON object";
  const ok = typeof h.tenant_id === "string" && Number.isSafeInteger(h.tree_size) && typeof h.root_hash === "string" && HEX32.test(h.root_hash) &&
    typeof h.timestamp === "string" && typeof h.signature === "string" && typeof h.signer_certificate_pem === "string";
  return ok ? (h as unknown as TreeHeadBody & { signature: string; signer_certificate_pem: string }) : "not a signed tree head (tenant_id, tree_size, root_hash, timestamp, signature, signer_certificate_pem)";
}

/** `issuers`: the bundle's issuing CA and its earlier ones that the chain check accepted (an earlier tree head may predate a rollover). */
export async function checkConsistency(b: Bundle, earlier: unknown, oids: KakuninOids, issuers: readonly x509.X509Certificate[]): Promise<CheckResult> {
  const reasons: string[] = [];
  const done = (summary: string): CheckResult => ({
    id: "consistency", title: "consistent with the earlier tree head", status: reasons.length ? "fail" : "pass", summary,
    failures: reasons.length ? [{ subject: "earlier tree head", reasons }] : [], notes: [],
  });
  const old = earlierHead(earlier);
  if (typeof old === "string") {
    reasons.push(`--since-tree-head: ${old}`);
    return done("the earlier tree head is unreadable");
  }
  if (old.tenant_id !== b.tenant.id) reasons.push(`it is tenant ${old.tenant_id}'s, the bundle is tenant ${b.tenant.id}'s`);
  const signer = parseCertificate(old.signer_certificate_pem);
  if (typeof signer === "string" || issuers.length === 0) reasons.push("its signer or the bundle's issuing CA does not parse");
  else {
    if (!(await signedByOneOf(signer, issuers))) reasons.push(issuers.length > 1 ? "its signer is not certified by the bundle's issuing CA or an earlier one" : "its signer is not certified by the bundle's issuing CA");
    if (!hasAuditEku(signer, oids)) reasons.push(`its signer is not an audit certificate (no EKU ${oids.ekuAuditTreeHeadSigning})`);
    reasons.push(...bindingProblems(signer, oids, b.tenant.id, true).map((r) => `its signer: ${r}`));
    if (!(await treeHeadSignatureValid(signer.publicKey.rawData, Buffer.from(old.signature, "base64"), old))) reasons.push("its signature does not verify");
  }
  const c = b.consistency;
  const size = b.tree_head.tree_size;
  if (old.tree_size >= size) {
    // No consistency proof can exist here (the origin refuses since_size beyond its log), so
    // asking for one would send the auditor to an export that can only fail: say what the two
    // signed heads show instead.
    const older = Date.parse(old.timestamp) <= Date.parse(b.tree_head.timestamp);
    if (old.tree_size === size) {
      if (old.root_hash !== b.tree_head.root_hash) reasons.push(`it and the bundle's tree head are two different signed roots for tree size ${fmt(size)}: the log was rewritten or forked`);
    } else if (older) {
      reasons.push(
        `the earlier tree head (signed ${old.timestamp}) commits to ${fmt(old.tree_size)} entries, but the bundle's tree, signed after it, has only ${fmt(size)}: ` +
          `the log lost entries ${fmt(size)}..${fmt(old.tree_size - 1)} (rolled back, e.g. a database restored from a backup, or rewritten)`,
      );
    } else {
      reasons.push(
        `the given tree head (size ${fmt(old.tree_size)}, signed ${old.timestamp}) is newer than the bundle's tree head (size ${fmt(size)}, signed ${b.tree_head.timestamp}): ` +
          "give a tree head signed before the bundle, or verify a bundle exported after that head",
      );
    }
  } else if (!c) reasons.push(`the bundle holds no consistency proof: export it with --since-tree-head (since_size=${old.tree_size})`);
  else if (c.from_size !== old.tree_size) reasons.push(`the bundle's consistency proof starts at tree size ${fmt(c.from_size)}, not the earlier head's ${fmt(old.tree_size)}`);
  else if (!c.proof.every((p) => HEX32.test(p)) || !(await verifyConsistency(old.tree_size, b.tree_head.tree_size, Buffer.from(old.root_hash, "hex"), Buffer.from(b.tree_head.root_hash, "hex"), c.proof.map((p) => Buffer.from(p, "hex"))))) {
    reasons.push(`the tree of size ${fmt(b.tree_head.tree_size)} is not an append-only extension of the earlier tree of size ${fmt(old.tree_size)}: the log was rewritten`);
  }
  return done(reasons.length
    ? "does not verify"
    : `the tree of size ${fmt(b.tree_head.tree_size)} extends the earlier tree of size ${fmt(old.tree_size)} signed ${old.timestamp}`);
}
