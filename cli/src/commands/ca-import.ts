/** `kakunin ca import`: POST /v1/tenant/ca/import (offline-root mode). */
import { readFile } from "node:fs/promises";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, IoError, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "ca import <cert.pem> [--json]";

const help = helpText(
  synopsis,
  `
Offline-root mode: imports the issuing-CA certificate the root signed offline for the pending
request of \`kakunin ca csr\` (POST /v1/tenant/ca/import; admin role). The origin checks it chains
to the configured root, carries the request's key, is CA:TRUE with pathlen 0, has keyCertSign,
cRLSign and digitalSignature, names the tenant and lies inside the root's validity; then it becomes
the active issuing CA (the previous one keeps CRL/OCSP for its certificates). A rejected
certificate is a 422 (exit 3) whose detail names the rule; importing the same one again is a no-op.`,
  [ORIGIN_HELP, JSON_HELP],
);

interface Authority {
  serial_number: string;
  subject: string;
  not_after: string;
}

export const caImport: Command = {
  name: "ca import",
  synopsis,
  summary: "offline root: import the signed issuing CA",
  help,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: ["cert.pem"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const file = a.req("cert.pem");
    let pem: string;
    try {
      pem = await readFile(file, "utf8");
    } catch (e) {
      throw new IoError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const r = await call<{ data: { current: Authority; previous: Authority | null } }>(
      "POST",
      originEndpoint(resolveSettings(a, help)),
      "/v1/tenant/ca/import",
      { body: { certificate_pem: pem } },
    );
    if (!r.ok) return reportFailure(io, r.error);
    const { current, previous } = r.value.body.data;
    io.out(
      a.bool("json")
        ? json(r.value.body.data)
        : kv([
            ["issuing CA", current.subject],
            ["serial", current.serial_number],
            ["valid until", current.not_after],
            ["retired", previous ? `${previous.subject} (serial ${previous.serial_number}, keeps CRL/OCSP for its certificates)` : "(none: first issuing CA)"],
            ...(r.value.status === 200 ? [["note", "already imported; nothing changed"] as [string, string]] : []),
          ]),
    );
    return EXIT.ok;
  },
};
