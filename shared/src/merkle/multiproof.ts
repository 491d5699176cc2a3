/**
 * One proof for many leaves (evidence bundles, `kakunin-evidence/3`): instead of an RFC 9162
 * audit path per leaf, the leaves are listed in ascending index order and every GAP between them
 * (the leaves not included: before the first, between two, after the last) is covered by the
 * hashes of the maximal subtrees of the RFC 9162 tree that lie inside it, left to right. Those
 * are exactly the nodes of the minimal multiproof: a subtree without included leaves whose
 * parent has one. Which subtrees cover a gap depends only on the gap and the tree size, so the
 * verifier computes the ranges itself and takes only hashes from the bundle.
 *
 * The verifier is a left-to-right stack (O(log n) memory, one pass): push the gap's subtrees and
 * each leaf in order, and whenever the top two items are the two children of one node of the
 * tree, replace them by that node. After the last gap the stack must hold exactly the root.
 * Every leaf costs one leaf hash plus the merges it completes (one on average for consecutive
 * leaves), against ~log2(n) hashes per leaf for separate audit paths.
 */
import { bytesEqual, HASH_SIZE, splitPoint } from "./hash.ts";
import type { NodeReader } from "./store.ts";
import { subtreeHash } from "./proofs.ts";

/** A subtree of the RFC 9162 tree: the leaves [start, start + size). */
export interface Span {
  start: number;
  size: number;
}

/**
 * The maximal subtrees of the tree of `treeSize` leaves that lie inside [from, to), left to
 * right (empty when from ≥ to). O(log n): only the two boundary paths are walked.
 */
export function gapSpans(from: number, to: number, treeSize: number): Span[] {
  const out: Span[] = [];
  const walk = (start: number, size: number): void => {
    const end = start + size;
    if (end <= from || start >= to) return;
    if (start >= from && end <= to) {
      out.push({ start, size });
      return;
    }
    // Partly inside, so size ≥ 2: split where RFC 9162 splits (largest power of two < size).
    const k = splitPoint(size);
    walk(start, k);
    walk(start + k, size - k);
  };
  if (from < to && to <= treeSize) walk(0, treeSize);
  return out;
}

/** The hashes of a gap's subtrees (gapSpans), concatenated: what the bundle carries for the gap. */
export async function gapNodes(from: number, to: number, treeSize: number, reader: NodeReader): Promise<Uint8Array> {
  const spans = gapSpans(from, to, treeSize);
  const out = new Uint8Array(spans.length * HASH_SIZE);
  for (const [i, s] of spans.entries()) out.set(await subtreeHash(s.start, s.size, reader), i * HASH_SIZE);
  return out;
}

interface Item<H> extends Span {
  hash: H;
}

// Bit arithmetic below 2^31 (every realistic subtree), exact floating point above.
const isPow2 = (n: number): boolean => n > 0 && (n < 0x80000000 ? (n & (n - 1)) === 0 : 2 ** Math.round(Math.log2(n)) === n);

/** SHA-256(0x01 || left || right), synchronously (node:crypto's in the CLI; nodeHash is the async Web Crypto form). */
export type SyncNodeHash<H = Uint8Array> = (left: H, right: H) => H;

/**
 * How the verifier holds hashes: bytes by default; the CLI holds them as hex strings, which
 * node:crypto returns and compares without allocating a Buffer per hash (most of a hash call's
 * cost for 32-byte outputs).
 */
export interface HashCodec<H> {
  /** The hash at byte offset `at` of a gap's concatenated nodes. */
  fromNodes(nodes: Uint8Array, at: number): H;
  equal(a: H, b: H): boolean;
}

const bytesCodec: HashCodec<Uint8Array> = { fromNodes: (nodes, at) => nodes.subarray(at, at + HASH_SIZE), equal: bytesEqual };

/**
 * Streaming verification of a multiproof against a signed root. Call `gap` (the concatenated
 * node hashes that precede a leaf, or null when the bundle gave none) and `leaf` for every
 * included leaf in ascending order, then `finish`. Each returns null when all is well, or the
 * reason the proof does not hold; after the first structural failure the root is not computed
 * (the caller reports it once) but calls stay safe. Never throws. Synchronous, with the node hash
 * given: a verifier of 100k entries must not pay a promise per merge.
 */
export class MultiproofVerifier<H = Uint8Array> {
  readonly #stack: Item<H>[] = [];
  /** First leaf index not yet covered by the stack. */
  #next = 0;
  #broken: string | null = null;

  constructor(
    readonly treeSize: number,
    private readonly hashNode: SyncNodeHash<H>,
    private readonly codec: HashCodec<H> = bytesCodec as unknown as HashCodec<H>,
  ) {
    if (!Number.isSafeInteger(treeSize) || treeSize < 1) this.#broken = `tree size ${treeSize} has no leaves to prove`;
  }

  /** The first leaf index the next leaf may have (everything before it is covered). */
  get next(): number {
    return this.#next;
  }

  get broken(): string | null {
    return this.#broken;
  }

  /**
   * Covers [next, to) with `nodes` (to = the next leaf's index, or treeSize after the last):
   * exactly one hash per subtree of gapSpans, in order. A missing or surplus hash is a failure.
   * `where` names the gap in the reason (a function: built only on failure).
   */
  gap(nodes: Uint8Array | null, to: number, where: string | (() => string)): string | null {
    if (this.#broken) return this.#broken;
    // No gap and no nodes (consecutive leaves, most of a bundle): nothing to cover.
    if (nodes === null && to === this.#next) return null;
    const spans = gapSpans(this.#next, to, this.treeSize);
    const have = nodes?.length ?? 0;
    if (have !== spans.length * HASH_SIZE) {
      const want = spans.length === 0 ? "no proof nodes" : `${spans.length} proof node${spans.length === 1 ? "" : "s"} (leaves ${this.#next}–${to - 1})`;
      const got = nodes === null ? "none" : have % HASH_SIZE === 0 ? `${have / HASH_SIZE}` : `${have} bytes`;
      return this.#fail(`${typeof where === "function" ? where() : where}: the bundle gives ${got}, the tree of size ${this.treeSize} needs ${want}`);
    }
    for (const [i, s] of spans.entries()) this.#push({ ...s, hash: this.codec.fromNodes(nodes!, i * HASH_SIZE) });
    return null;
  }

  /** Adds leaf `index` (its gap must have been given first). */
  leaf(index: number, hash: H): string | null {
    if (this.#broken) return this.#broken;
    if (!Number.isSafeInteger(index) || index < this.#next || index >= this.treeSize) {
      return this.#fail(`leaf ${index} is not in the tree of size ${this.treeSize} after leaf ${this.#next - 1}`);
    }
    if (index !== this.#next) return this.#fail(`leaf ${index}: the proof nodes for leaves ${this.#next}–${index - 1} were not given`);
    this.#push({ start: index, size: 1, hash });
    return null;
  }

  /** After the last gap: the stack must have reduced to the root, and the root must be `root`. */
  finish(root: H): string | null {
    if (this.#broken) return this.#broken;
    if (this.#next !== this.treeSize || this.#stack.length !== 1) return this.#fail(`the proof stops at leaf ${this.#next} of ${this.treeSize}`);
    if (!this.codec.equal(this.#stack[0]!.hash, root))
      return this.#fail(`the entries and proof nodes hash to a root other than the signed root of tree size ${this.treeSize}`);
    return null;
  }

  #fail(reason: string): string {
    this.#broken ??= reason;
    return reason;
  }

  #push(item: Item<H>): void {
    const st = this.#stack;
    st.push(item);
    this.#next = item.start + item.size;
    // Merge while the top two are the left and right child of one node. A left child is a
    // perfect subtree of 2^j leaves aligned to 2^(j+1); its right sibling has 2^j leaves too,
    // except on the tree's right edge, where it ends at treeSize and has at most 2^j.
    for (;;) {
      const b = st[st.length - 1]!;
      const a = st[st.length - 2];
      if (!a || !isPow2(a.size) || a.start % (2 * a.size) !== 0) return;
      const end = b.start + b.size;
      if (end === this.treeSize ? b.size > a.size : b.size !== a.size) return;
      st.length -= 2;
      st.push({ start: a.start, size: a.size + b.size, hash: this.hashNode(a.hash, b.hash) });
    }
  }
}
