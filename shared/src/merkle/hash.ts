/**
 * RFC 9162 §2.1 hashing with SHA-256, over Web Crypto only so the same code runs in workerd,
 * browsers, Node and the offline `kakunin audit verify` CLI. The 0x00 / 0x01 prefixes separate
 * leaves from interior nodes, so no leaf can be passed off as a subtree (second-preimage).
 */

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** A SHA-256 implementation: Web Crypto by default; Node entry points plug in node:crypto. */
export type Sha256 = (input: Uint8Array<ArrayBuffer>) => Uint8Array | Promise<Uint8Array>;

let digest: Sha256 = async (input) => new Uint8Array(await crypto.subtle.digest("SHA-256", input));

/**
 * Replaces the SHA-256 used for tree hashing. crypto.subtle costs ~36 µs per call in Node against
 * ~3 µs for node:crypto, which decides whether verifying 100k inclusion proofs takes minutes or
 * seconds; the origin and the CLI install node:crypto's at start-up. The results are identical.
 */
export function useSha256(fn: Sha256): void {
  digest = fn;
}

// Copy everything into one fresh buffer: inputs may be views into a shared pool (Node Buffers
// from a database driver), and crypto.subtle wants an ArrayBuffer-backed view.
async function sha256(prefix: number | null, ...parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  const head = prefix === null ? 0 : 1;
  const input = new Uint8Array(head + parts.reduce((n, p) => n + p.length, 0));
  if (prefix !== null) input[0] = prefix;
  let at = head;
  for (const p of parts) {
    input.set(p, at);
    at += p.length;
  }
  const out = await digest(input);
  return out instanceof Uint8Array && out.buffer instanceof ArrayBuffer && out.byteOffset === 0 && out.byteLength === out.buffer.byteLength
    ? (out as Uint8Array<ArrayBuffer>)
    : new Uint8Array(out);
}

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(LEAF_PREFIX, data);
}

/** Interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(NODE_PREFIX, left, right);
}

/** MTH({}) = SHA-256 of the empty string (e3b0c442…). */
export function emptyRootHash(): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(null);
}

/** Byte equality; proofs and roots are public, so no constant-time comparison is needed. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Largest power of two strictly less than n (n ≥ 2): the RFC's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
