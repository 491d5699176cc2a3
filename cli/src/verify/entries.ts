/**
 * Check d, "no entry modified", one entry at a time (the verifier streams): each entry's canonical
 * text hashes to its leaf, is the RFC 8785 form of itself, says the index/kind/log/agent the bundle
 * files it under, and its inclusion proof leads from that leaf to the signed root. Entries come in
 * log order (strictly increasing index); where consecutive log entries are both present, the hash
 * chain (`prev`) must link them. Memory: the previous entry and the previous proof's path.
 */
import { bytesEqual, canonicalize, leafHash, nodeHash } from "@kakunin/shared";
import { isRecord } from "./shape.ts";
import { FailureList } from "./failures.ts";
import type { Bundle, CheckResult } from "./types.ts";
import { fmt } from "./fmt.ts";

const HEX32 = /^[0-9a-f]{64}$/;
const enc = new TextEncoder();

/** A decoded entry, handed to the completeness and validity checks; `proven`: all of check d held. */
export interface ParsedEntry {
  index: number;
  kind: string;
  proven: boolean;
  data: Record<string, unknown>;
  /** The whole decoded entry ({} when it did not decode). */
  entry: Record<string, unknown>;
  /** The entry's stated leaf hash (hex); v3: the hash of its text. */
  leaf: string;
  /**
   * v3: this entry's `prev` disagrees with the hash of its log predecessor's text, already failed
   * as a modification in check d; the agent-chain check does not count the same break as a removal.
   */
  predecessorChanged?: boolean;
}

/** An entry as the bundle carries it (shape already checked). */
export interface RawEntry {
  index: number;
  kind: string;
  leaf_hash: string;
  canonical: string;
  audit_path: string[];
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

function decode(canonical: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(canonical);
  } catch {
    return "canonical is not JSON";
  }
  if (!isRecord(value)) return "canonical is not a JSON object";
  try {
    if (canonicalize(value) !== canonical) return "canonical is not in RFC 8785 canonical form";
  } catch (e) {
    return `canonical cannot be canonicalised: ${e instanceof Error ? e.message : String(e)}`;
  }
  return value;
}

/**
 * RFC 9162 §2.1.3.2 inclusion verification that remembers the previous successful proof. The
 * algorithm's state after each step is (fn, sn, r): if a step reaches a state the previous proof
 * passed through, with the same hash r, and the rest of this proof equals the rest of that one
 * (compared byte by byte), the remaining steps are the same deterministic computation, which
 * already ended at the signed root. Neighbouring entries share all but the bottom of their paths,
 * so a bundle of consecutive entries costs ~2 hashes per entry instead of ~log2(n).
 */
class InclusionVerifier {
  #prev: { states: Map<string, { r: Uint8Array; step: number }>; proof: Uint8Array[] } | null = null;
  constructor(
    private readonly size: number,
    private readonly root: Uint8Array,
  ) {}

  async verify(index: number, leaf: Uint8Array, proof: Uint8Array[]): Promise<boolean> {
    if (index >= this.size) return false;
    const states = new Map<string, { r: Uint8Array; step: number }>();
    let fn = index;
    let sn = this.size - 1;
    let r = leaf;
    const prev = this.#prev;
    for (let j = 0; j < proof.length; j++) {
      const seen = prev?.states.get(`${fn}:${sn}`);
      if (
        seen &&
        bytesEqual(seen.r, r) &&
        prev!.proof.length - seen.step === proof.length - j &&
        proof.slice(j).every((p, k) => bytesEqual(p, prev!.proof[seen.step + k]!))
      ) {
        return true;
      }
      states.set(`${fn}:${sn}`, { r, step: j });
      const p = proof[j]!;
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    const ok = sn === 0 && bytesEqual(r, this.root);
    if (ok) this.#prev = { states, proof };
    return ok;
  }
}

export class EntryChecker {
  readonly failures = new FailureList();
  count = 0;
  chainLinks = 0;
  #last: { index: number; leaf: string } | null = null;
  readonly #inclusion: InclusionVerifier | null;

  constructor(private readonly b: Pick<Bundle, "tree_head" | "agent">) {
    const root = HEX32.test(b.tree_head.root_hash) ? Buffer.from(b.tree_head.root_hash, "hex") : null;
    this.#inclusion = root ? new InclusionVerifier(b.tree_head.tree_size, root) : null;
  }

  async check(e: RawEntry): Promise<ParsedEntry> {
    this.count++;
    const h = this.b.tree_head;
    const reasons: string[] = [];
    const leafBytes = await leafHash(enc.encode(e.canonical));
    const leaf = hex(leafBytes);
    const last = this.#last;
    if (last && e.index <= last.index) reasons.push(`index ${e.index} does not follow entry ${last.index}: entries must be in log order, each once`);
    if (leaf !== e.leaf_hash) reasons.push(`canonical text hashes to leaf ${leaf.slice(0, 16)}…, not leaf_hash ${e.leaf_hash.slice(0, 16)}…`);

    const entry = decode(e.canonical);
    let data: Record<string, unknown> = {};
    if (typeof entry === "string") reasons.push(entry);
    else {
      if (entry.v !== 1 && entry.v !== 2) reasons.push(`entry version ${JSON.stringify(entry.v)} is not 1 or 2`);
      if (entry.index !== e.index) reasons.push(`entry says index ${JSON.stringify(entry.index)}, the bundle files it at ${e.index}`);
      if (entry.kind !== e.kind) reasons.push(`entry says kind ${JSON.stringify(entry.kind)}, the bundle says ${e.kind}`);
      if (entry.log !== h.tenant_id) reasons.push(`entry belongs to log ${JSON.stringify(entry.log)}, not the signed tenant's ${h.tenant_id}`);
      if (entry.agent_id !== this.b.agent.id) reasons.push(`entry is about agent ${JSON.stringify(entry.agent_id)}, not ${this.b.agent.id}`);
      if (isRecord(entry.data)) data = entry.data;
      else reasons.push("entry has no data object");
      // The hash chain, checked against the predecessor's stated leaf_hash: if that entry was
      // modified it fails on its own, and its successor is not blamed for an edit it did not undergo.
      if (last && last.index === e.index - 1) {
        this.chainLinks++;
        if (entry.prev !== last.leaf)
          reasons.push(`prev ${String(entry.prev).slice(0, 16)}… is not entry ${e.index - 1}'s leaf hash ${last.leaf.slice(0, 16)}…`);
      }
    }

    const path = e.audit_path.map((p) => (HEX32.test(p) ? Buffer.from(p, "hex") : null));
    if (path.some((p) => p === null)) reasons.push("audit_path holds a value that is not 32 bytes of lowercase hex");
    else if (!this.#inclusion) reasons.push("cannot check inclusion: the tree head's root_hash is malformed");
    else if (!(await this.#inclusion.verify(e.index, leafBytes, path as Uint8Array[]))) {
      reasons.push(`inclusion proof does not lead to the signed root of tree size ${fmt(h.tree_size)}`);
    }

    if (reasons.length) this.failures.add({ subject: `entry ${e.index} (${e.kind})`, index: e.index, kind: e.kind, reasons });
    if (!last || e.index > last.index) this.#last = { index: e.index, leaf: e.leaf_hash };
    return { index: e.index, kind: e.kind, proven: reasons.length === 0, data, entry: typeof entry === "string" ? {} : entry, leaf: e.leaf_hash };
  }

  result(): CheckResult {
    const n = this.count;
    const bad = this.failures.total;
    const summary = bad
      ? `${fmt(bad)} of ${fmt(n)} entries failed`
      : `${fmt(n)} of ${fmt(n)} entries hash to their leaves and are included in the signed tree; ${fmt(this.chainLinks)} hash-chain links checked`;
    return { id: "entries", title: "no entry modified", status: bad ? "fail" : "pass", summary, failures: this.failures.list, notes: this.failures.notes() };
  }
}
