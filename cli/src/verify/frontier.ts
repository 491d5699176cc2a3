/**
 * RFC 9162 hashing for checking an archive: leaf hashes of canonical lines, and the roots of
 * every prefix of a log computed while its leaves stream past.
 */
import { createHash } from "node:crypto";

const sha256 = (b: Uint8Array): Buffer => createHash("sha256").update(b).digest();
export const leafHash = (line: string): Buffer => sha256(Buffer.concat([Buffer.of(0), Buffer.from(line, "utf8")]));
export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
const nodeHash = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.concat([Buffer.of(1), l, r]));

/**
 * RFC 9162 roots of every prefix of a log, one leaf at a time, in O(log n) memory: the maximal
 * perfect subtrees of the leaves so far, folded right to left, are MTH(D[0:n]).
 */
export class Frontier {
  private readonly stack: { size: number; hash: Buffer }[] = [];
  size = 0;

  push(leaf: Buffer): void {
    let node = { size: 1, hash: leaf };
    while (this.stack.length && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { size: left.size * 2, hash: nodeHash(left.hash, node.hash) };
    }
    this.stack.push(node);
    this.size++;
  }

  root(): Buffer {
    if (this.stack.length === 0) return sha256(new Uint8Array(0));
    let h = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) h = nodeHash(this.stack[i]!.hash, h);
    return h;
  }
}
