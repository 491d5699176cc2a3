/** `kakunin certify <agent-id>`: POST /v1/agents/:id/certify, optionally saving the PEM. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, type Io } from "../io.ts";
import { json, kv } from "../render.ts";
import { savePem } from "../save-pem.ts";

const synopsis = "certify <agent-id> [--reason R] [--out cert.pem] [--json]";

const help = helpText(synopsis, `
Issues the agent's X.509 certificate (POST /v1/agents/:id/certify; the RSA key is generated in
the key manager and never leaves it) and prints its id, serial number and expiry. Refused (exit 3)
when the agent already has an active certificate (409), is retired (422) or unknown (404).
An agent suspended over risk (auto-revoked, or revoked by a review) is certified again only by an
admin with --reason, which the audit log keeps (an issuer is refused, 403 risk-suspension).`, [
  "  --reason R       why the risk suspension is lifted (admin; required to certify such an agent)",
  "  --out cert.pem   also write the certificate (PEM) to this file",
  ORIGIN_HELP, JSON_HELP,
]);

interface Issued {
  id: string;
  agent_id: string;
  serial_number: string;
  certificate_pem: string;
  kms_key_arn: string;
  status: string;
  issued_at: string;
  expires_at: string;
}

export const certify: Command = {
  name: "certify",
  synopsis,
  summary: "issue an agent's certificate",
  help,
  spec: { strings: ["reason", "out", "origin", "api-key"], booleans: ["json"], positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const reason = a.str("reason");
    const r = await call<{ data: Issued }>("POST", originEndpoint(resolveSettings(a, help)), `/v1/agents/${encodeURIComponent(id)}/certify`, reason === undefined ? {} : { body: { reason } });
    if (!r.ok) return reportFailure(io, r.error);
    const c = r.value.body.data;
    const out = a.str("out");
    const pem = await savePem(out, c);
    if (a.bool("json")) {
      io.out(json(c));
      return EXIT.ok;
    }
    io.out(kv([
      ["certificate", c.id], ["serial", c.serial_number], ["agent", c.agent_id], ["status", c.status],
      ["issued", c.issued_at], ["expires", c.expires_at], ["key", c.kms_key_arn], ["pem", pem],
    ]));
    return EXIT.ok;
  },
};
