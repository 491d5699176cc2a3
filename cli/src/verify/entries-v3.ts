/**
 * Check d, "no entry modified", for kakunin-evidence/3 (docs/evidence-format.md), one element of
 * `entries` at a time. An audit entry is carried as its canonical text verbatim, so its leaf is
 * SHA-256(0x00 || the bytes in the file), hashed as read, never re-serialised. Why no check that
 * those bytes are canonical: a leaf is in the signed tree only if the origin wrote exactly these
 * bytes, and the origin writes nothing but RFC 8785 text (audit/append.ts); any other text (a
 * duplicated member that parsers would read differently, whitespace from a reformatting tool)
 * hashes to a leaf that is not in the tree, and the multiproof fails. A string is the base64 hashes of
 * the subtrees covering the leaves before the next entry; entries and strings feed one streaming
 * multiproof (MultiproofVerifier), which must end at the signed root. Memory: the previous entry,
 * one gap string and the verifier's O(log n) stack.
 *
 * A multiproof fails as a whole: a changed entry changes the root, not "its" proof. The hash
 * chain names it: an entry whose successor is in the bundle must hash to the successor's `prev`.
 */
import { createHash, hash } from "node:crypto";
import { canonicalize, MultiproofVerifier, type HashCodec } from "@kakunin/shared";
import type { ParsedEntry } from "./entries.ts";
import { FailureList } from "./failures.ts";
import { isRecord } from "./shape.ts";
import type { Bundle, CheckResult } from "./types.ts";
import { fmt } from "./fmt.ts";

const HEX32 = /^[0-9a-f]{64}$/;
const LEAF_PREFIX = Buffer.from([0]);

/**
 * The entry's RFC 8785 text: `raw` (its text in the file) when streamed, which is hashed as is;
 * for a document parsed as a whole (no raw text), canonicalize() of the parsed entry.
 */
function canonicalText(value: Record<string, unknown>, raw: string | undefined): string | { error: string } {
  if (raw !== undefined) return raw;
  try {
    return canonicalize(value);
  } catch (e) {
    return { error: `the entry cannot be canonicalised: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * Hashes are held as lowercase hex, as node:crypto's one-shot hash returns them: a Buffer result
 * costs an allocation per call (~3x the hashing of 65 bytes), and the hash chain compares hex anyway.
 */
const HEX: HashCodec<string> = {
  fromNodes: (nodes, at) => Buffer.from(nodes.buffer, nodes.byteOffset, nodes.byteLength).toString("hex", at, at + 32),
  equal: (a, b) => a === b,
};
const scratch = Buffer.alloc(65);
scratch[0] = 1;
/** SHA-256(0x01 || left || right) over one reused buffer. */
const nodeHash = (l: string, r: string): string => {
  scratch.write(l, 1, "hex");
  scratch.write(r, 33, "hex");
  return hash("sha256", scratch, "hex");
};
/** SHA-256(0x00 || text) of a streamed or re-canonicalised entry (the fast path hashes the file's bytes itself: fast-verify.ts). */
const leafOf = (text: string): string => createHash("sha256").update(LEAF_PREFIX).update(text, "utf8").digest("hex");

export class EntryCheckerV3 {
  readonly failures = new FailureList();
  count = 0;
  chainLinks = 0;
  nodes = 0;
  #last: { index: number; kind: string; leaf: string } | null = null;
  #pending: Buffer | null = null;
  #pendingAt = "";
  readonly #proof: MultiproofVerifier<string>;
  readonly #root: string | null;

  /** `formatFailures`: the format check's list, for elements that are neither an entry nor a proof string. */
  constructor(
    private readonly b: Pick<Bundle, "tree_head" | "agent">,
    private readonly formatFailures: FailureList,
  ) {
    this.#root = HEX32.test(b.tree_head.root_hash) ? b.tree_head.root_hash : null;
    this.#proof = new MultiproofVerifier(b.tree_head.tree_size, nodeHash, HEX);
  }

  #proofFailure(subject: string, reason: string | null): void {
    if (reason) this.failures.add({ subject, reasons: [`multiproof: ${reason}`] });
  }

  /** One element of `entries`: a proof string (null returned) or an audit entry (parsed). `raw`: its text in the file, when streamed. */
  item(where: string, value: unknown, raw?: string): ParsedEntry | null {
    if (typeof value === "string") {
      const nodes = Buffer.from(value, "base64");
      if (this.#pending)
        this.formatFailures.add({ subject: where, reasons: [`two proof strings in a row (${this.#pendingAt} and this one): each gap has one`] });
      else if (nodes.toString("base64") !== value)
        this.formatFailures.add({ subject: where, reasons: ["a proof string that is not base64 (RFC 4648, padded)"] });
      else {
        this.#pending = nodes;
        this.#pendingAt = where;
        this.nodes += nodes.length / 32;
      }
      return null;
    }
    if (!isRecord(value) || !Number.isSafeInteger(value.index) || (value.index as number) < 0 || typeof value.kind !== "string") {
      this.formatFailures.add({ subject: where, reasons: ["neither an audit entry (an object with index and kind) nor a base64 string of proof nodes"] });
      return null;
    }
    return this.#entry(value as Record<string, unknown> & { index: number; kind: string }, raw, undefined);
  }

  /**
   * An audit entry read by the field scanner (entry-scan.ts): `entry` holds the members the
   * checks read, `leaf` the hash the fast path computed from the entry's bytes in the file.
   */
  scanned(position: number, entry: Record<string, unknown>, leaf: string): ParsedEntry | null {
    if (!Number.isSafeInteger(entry.index) || (entry.index as number) < 0 || typeof entry.kind !== "string") {
      this.formatFailures.add({
        subject: `entries[${position}]`,
        reasons: ["neither an audit entry (an object with index and kind) nor a base64 string of proof nodes"],
      });
      return null;
    }
    return this.#entry(entry as Record<string, unknown> & { index: number; kind: string }, undefined, leaf);
  }

  #entry(entry: Record<string, unknown> & { index: number; kind: string }, raw: string | undefined, scannedLeaf: string | undefined): ParsedEntry {
    this.count++;
    const { index, kind } = entry;
    const subject = (): string => `entry ${index} (${kind})`;
    const h = this.b.tree_head;
    const reasons: string[] = [];
    let leafHex = scannedLeaf ?? "";
    const last = this.#last;
    if (scannedLeaf === undefined) {
      const text = canonicalText(entry, raw);
      if (typeof text !== "string") reasons.push(text.error);
      else {
        // Canonical text has no raw line break (RFC 8785 escapes them in strings): a cheap, certain
        // sign of a reformatted file, worth naming since its hashes cannot match.
        if (raw !== undefined && raw.includes("\n"))
          reasons.push(
            "the entry's text has line breaks, so it is not the canonical text that was hashed: the file was reformatted (keep bundles byte for byte)",
          );
        leafHex = leafOf(text);
      }
    }
    if (leafHex) {
      if (last && index <= last.index) reasons.push(`index ${index} does not follow entry ${last.index}: entries must be in log order, each once`);
      else if (!this.#proof.broken) {
        // Consecutive leaves (no gap, no proof string) need no gap call, nor its closure.
        const r =
          this.#pending === null && index === this.#proof.next
            ? this.#proof.leaf(index, leafHex)
            : (this.#proof.gap(this.#pending, index, () => `before ${subject()}`) ?? this.#proof.leaf(index, leafHex));
        if (r) this.#proofFailure(subject(), r);
        this.#pending = null;
      }
    }
    if (entry.v !== 1 && entry.v !== 2) reasons.push(`entry version ${JSON.stringify(entry.v)} is not 1 or 2`);
    if (entry.log !== h.tenant_id) reasons.push(`entry belongs to log ${JSON.stringify(entry.log)}, not the signed tenant's ${h.tenant_id}`);
    if (entry.agent_id !== this.b.agent.id) reasons.push(`entry is about agent ${JSON.stringify(entry.agent_id)}, not ${this.b.agent.id}`);
    const data = isRecord(entry.data) ? entry.data : {};
    if (!isRecord(entry.data)) reasons.push("entry has no data object");
    // The hash chain: this entry records its log predecessor's leaf. When the predecessor is in the
    // bundle, a mismatch means one of the two was changed; the multiproof fails too.
    let predecessorChanged = false;
    if (last && last.index === index - 1 && leafHex) {
      this.chainLinks++;
      if (entry.prev !== last.leaf) {
        predecessorChanged = true;
        this.failures.add({
          subject: `entry ${last.index} (${last.kind})`,
          index: last.index,
          kind: last.kind,
          reasons: [
            `its text hashes to leaf ${last.leaf.slice(0, 16)}…, but entry ${index} records ${String(entry.prev).slice(0, 16)}… as its predecessor's leaf (prev): the entry was changed (or entry ${index}'s prev was)`,
          ],
        });
      }
    }
    if (reasons.length) this.failures.add({ subject: subject(), index, kind, reasons });
    if (leafHex && (!last || index > last.index)) this.#last = { index, kind, leaf: leafHex };
    return { index, kind, proven: reasons.length === 0, data, entry, leaf: leafHex, predecessorChanged };
  }

  /** After the last element: the gap to the end of the tree, then the root. */
  finish(): void {
    if (!this.#root) {
      this.failures.add({ subject: "multiproof", reasons: ["cannot check inclusion: the tree head's root_hash is malformed"] });
      return;
    }
    if (this.#proof.broken) return;
    const after = this.#last ? `after entry ${this.#last.index}` : "before any entry";
    this.#proofFailure("multiproof", this.#proof.gap(this.#pending, this.b.tree_head.tree_size, after) ?? this.#proof.finish(this.#root));
  }

  result(): CheckResult {
    const n = this.count;
    const bad = this.failures.total;
    const summary = bad
      ? `${fmt(bad)} failure${bad === 1 ? "" : "s"} among ${fmt(n)} entries and their multiproof`
      : `${fmt(n)} of ${fmt(n)} entries hash into the signed tree (one multiproof, ${fmt(this.nodes)} proof node${this.nodes === 1 ? "" : "s"}); ${fmt(this.chainLinks)} hash-chain links checked`;
    return { id: "entries", title: "no entry modified", status: bad ? "fail" : "pass", summary, failures: this.failures.list, notes: this.failures.notes() };
  }
}
