import type { HttpClient } from "../common/http-client.ts";
import { readOcspStatus } from "../verify/ocsp-status.ts";
import type { Op } from "../verify/targets.ts";
import { ocspGetPath } from "./ocsp-fixture.ts";

/**
 * The RFC 5019 GET form of the same requests `ocspOp` POSTs; each answer is parsed and its serial
 * and status checked, and it must carry the RFC 5019 §6 caching headers (max-age, ETag,
 * Last-Modified): a response without them counts as an error.
 */
export function ocspGetOp(
  baseUrl: string,
  leaves: readonly { serial: string; status: "good" | "revoked" }[],
  requests: readonly Uint8Array[],
  requireCacheHeaders = true,
): Op {
  const paths = requests.map(ocspGetPath);
  return (client: HttpClient) => async () => {
    const i = Math.floor(Math.random() * leaves.length);
    const leaf = leaves[i]!;
    const r = await client.get(`${baseUrl}${paths[i]!}`);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    if (requireCacheHeaders && !(r.headers?.["etag"] && r.headers["last-modified"] && /max-age=\d+/.test(String(r.headers["cache-control"])))) {
      throw new Error(`no RFC 5019 caching headers: ${JSON.stringify(r.headers)}`);
    }
    const got = readOcspStatus(r.body);
    if (got.serial !== leaf.serial || got.status !== leaf.status) throw new Error(`${leaf.serial}: got ${got.serial} ${got.status}, index says ${leaf.status}`);
  };
}
