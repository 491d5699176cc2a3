/** `kakunin ca root-crl`: POST /v1/admin/ca/root/crl (offline-root mode). */
import { readFile } from "node:fs/promises";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, IoError, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "ca root-crl <crl.pem|crl.der> [--json]";

const help = helpText(
  synopsis,
  `
Offline-root mode: uploads the root's CRL signed on the offline machine (e.g. \`openssl ca -gencrl
-crldays 30\`), which the origin forwards to the edge as /v1/crl/root (POST /v1/admin/ca/root/crl;
admin of the operator tenant). It must be signed by the configured root, current, and carry a CRL
number above the last one uploaded; upload a new one before the last one's nextUpdate.`,
  [ORIGIN_HELP, JSON_HELP],
);

export const caRootCrl: Command = {
  name: "ca root-crl",
  synopsis,
  summary: "offline root: upload the root's CRL",
  help,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: ["crl-file"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const file = a.req("crl-file");
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new IoError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const text = bytes.toString("latin1");
    const crl = text.includes("-----BEGIN X509 CRL-----") ? text : bytes.toString("base64");
    const r = await call<{ data: { crl_number: string; this_update: string; next_update: string } }>(
      "POST",
      originEndpoint(resolveSettings(a, help)),
      "/v1/admin/ca/root/crl",
      { body: { crl } },
    );
    if (!r.ok) return reportFailure(io, r.error);
    const d = r.value.body.data;
    io.out(
      a.bool("json")
        ? json(d)
        : kv([
            ["root CRL number", d.crl_number],
            ["this update", d.this_update],
            ["next update", d.next_update],
          ]),
    );
    return EXIT.ok;
  },
};
