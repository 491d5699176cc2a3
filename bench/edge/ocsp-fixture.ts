import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { CertStatusRecord } from "@kakunin/shared";
import type { OpensslCa } from "../verify/openssl-ca.ts";
import { fakeRecords } from "../verify/records.ts";

const run = promisify(execFile);

/**
 * Edge records for the openssl CA's own leaves, each carrying the OCSP response that `openssl ocsp`
 * signs for it (with `-ndays 1`, so it has a nextUpdate like the origin's), so the edge and the
 * openssl responder answer exactly the same requests about exactly the same certificates.
 */
export async function presignedOcspRecords(ca: OpensslCa, firstV: number): Promise<CertStatusRecord[]> {
  const base = fakeRecords(ca.leaves.length, Number.MAX_SAFE_INTEGER);
  const out: CertStatusRecord[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < ca.leaves.length) {
        const i = next++;
        const leaf = ca.leaves[i]!;
        const req = join(ca.dir, `req-${i}.der`);
        const resp = join(ca.dir, `resp-${i}.der`);
        writeFileSync(req, ca.requests[i]!);
        await run(
          "openssl",
          [
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            "issuing.pem",
            "-rkey",
            "issuing.key",
            "-CA",
            "issuing.pem",
            "-reqin",
            req,
            "-respout",
            resp,
            "-ndays",
            "1",
          ],
          { cwd: ca.dir },
        );
        const revoked = leaf.status === "revoked";
        out[i] = {
          ...base[i]!,
          v: firstV + i,
          serial_number: leaf.serial,
          status: revoked ? "revoked" : "active",
          revoked_at: revoked ? new Date().toISOString() : null,
          revocation_reason: revoked ? "bench: revoked in index.txt" : null,
          revocation_code: revoked ? "keyCompromise" : null,
          ocsp_b64: readFileSync(resp).toString("base64"),
        };
      }
    }),
  );
  return out;
}

/** RFC 6960 appendix A.1 / RFC 5019 §5: the GET form is the URL-encoded base64 of the DER request. */
export function ocspGetPath(request: Uint8Array): string {
  return `/v1/ocsp/${encodeURIComponent(Buffer.from(request).toString("base64"))}`;
}
