/**
 * The `entries` of a kakunin-evidence/3 bundle (docs/evidence-format.md): the audit entries in
 * log order, each written as its stored canonical text verbatim (it is JSON, so it needs no
 * escaping, and the verifier hashes those very bytes), and before each entry whose leaf does not
 * follow the previous one, one base64 string with the hashes of the maximal subtrees covering the
 * leaves in between (gapNodes); after the last entry, the same for the leaves up to the tree
 * size. Together they are one RFC 9162 multiproof for every entry of the bundle.
 */
import { gapNodes } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { withPrefetchedNodes } from "./proof-reader.ts";

export interface LogRow {
  idx: number;
  canonical: string;
}

const b64 = (b: Uint8Array): string => `"${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64")}"`;

/**
 * The JSON text of each element of `entries`, page by page: per page, one prefetch of every node
 * its gaps read (a page of consecutive entries reads none). Memory: a page and its gap nodes.
 */
export async function* multiproofItems(db: Queryable, tenantId: string, size: number, pages: AsyncIterable<LogRow[]>): AsyncGenerator<string> {
  let next = 0;
  for await (const rows of pages) {
    const from = next;
    const gaps = await withPrefetchedNodes(db, tenantId, async (reader) => {
      const out: Uint8Array[] = [];
      let at = from;
      for (const r of rows) {
        out.push(await gapNodes(at, r.idx, size, reader));
        at = r.idx + 1;
      }
      return out;
    });
    for (const [i, r] of rows.entries()) {
      if (gaps[i]!.length) yield b64(gaps[i]!);
      yield r.canonical;
      next = r.idx + 1;
    }
  }
  if (next < size) {
    const from = next;
    yield b64(await withPrefetchedNodes(db, tenantId, (reader) => gapNodes(from, size, size, reader)));
  }
}
