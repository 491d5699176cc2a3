/** `kakunin ca csr`: POST /v1/tenant/ca/csr (offline-root mode). */
import { writeFile } from "node:fs/promises";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, IoError, type Io } from "../io.ts";
import { json } from "../render.ts";

const synopsis = "ca csr [--out FILE] [--json]";

const help = helpText(
  synopsis,
  `
Offline-root mode: creates the key of the tenant's next issuing CA in the KeyManager and prints a
PKCS#10 request for it (POST /v1/tenant/ca/csr; admin role), to be signed with the root on the
offline machine, e.g.
  openssl x509 -req -in ca.csr -CA root.pem -CAkey root.key -copy_extensions copyall \\
    -days 1825 -sha256 -set_serial 0x$(openssl rand -hex 16 | sed 's/^./4/') -out ca.pem
then imported with \`kakunin ca import ca.pem\`. Asking again returns the same pending request.
  --out FILE   write the CSR to FILE instead of stdout`,
  [ORIGIN_HELP, JSON_HELP],
);

interface CaRequest {
  id: string;
  status: string;
  generation: number;
  csr_pem: string;
  created_at: string;
}

export const caCsr: Command = {
  name: "ca csr",
  synopsis,
  summary: "offline root: request the next issuing CA (CSR)",
  help,
  spec: { strings: ["out", "origin", "api-key"], booleans: ["json"], positionals: [] },
  async run(a: Parsed, io: Io): Promise<number> {
    const r = await call<{ data: CaRequest }>("POST", originEndpoint(resolveSettings(a, help)), "/v1/tenant/ca/csr", {});
    if (!r.ok) return reportFailure(io, r.error);
    const req = r.value.body.data;
    const out = a.str("out");
    if (out !== undefined) {
      try {
        await writeFile(out, req.csr_pem);
      } catch (e) {
        throw new IoError(`request ${req.id} exists (run again to fetch it), but writing ${out} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      io.err(`CSR for generation ${req.generation} written to ${out}; sign it with the offline root, then: kakunin ca import <cert.pem>`);
    }
    if (a.bool("json")) io.out(json(req));
    else if (out === undefined) io.out(req.csr_pem.trimEnd());
    return EXIT.ok;
  },
};
