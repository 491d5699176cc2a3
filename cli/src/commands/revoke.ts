/** `kakunin revoke <certificate-id> --reason R`: POST /v1/certificates/:id/revoke. */
import { CERTIFICATE_HOLD_REFUSED, REVOCATION_REASONS } from "@kakunin/shared";
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, UsageError, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "revoke <certificate-id> --reason R [--reason-code CODE] [--json]";

const help = helpText(synopsis, `
Revokes a certificate (POST /v1/certificates/:id/revoke); the agent becomes suspended, and the
edge answers \`valid: false\` within seconds. Revoking twice is refused (409, exit 3).`, [
  "  --reason R         why, in words (kept in the audit log)",
  "  --reason-code CODE  RFC 5280 reason for CRL and OCSP (default: the one --reason names, else unspecified):",
  `      ${REVOCATION_REASONS.slice(0, 5).join(", ")},`,
  `      ${REVOCATION_REASONS.slice(5).join(", ")}`,
  "      (no certificateHold: revocation is final; certify the agent again to resume)",
  ORIGIN_HELP, JSON_HELP,
]);

interface Revoked { id: string; status: string; revoked_at: string; revocation_reason: string }

export const revoke: Command = {
  name: "revoke",
  synopsis,
  summary: "revoke a certificate",
  help,
  spec: { strings: ["reason", "reason-code", "origin", "api-key"], booleans: ["json"], positionals: ["certificate-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("certificate-id");
    const reason = a.req("reason");
    const code = a.str("reason-code");
    // The API refuses certificateHold too (422); saying why here spares a round trip.
    if (code === "certificateHold") throw new UsageError(`--reason-code ${CERTIFICATE_HOLD_REFUSED}`, help);
    if (code !== undefined && !(REVOCATION_REASONS as readonly string[]).includes(code)) {
      throw new UsageError(`--reason-code must be one of ${REVOCATION_REASONS.join(", ")}`, help);
    }
    const body = { reason, ...(code === undefined ? {} : { reason_code: code }) };
    const r = await call<{ data: Revoked }>("POST", originEndpoint(resolveSettings(a, help)), `/v1/certificates/${encodeURIComponent(id)}/revoke`, { body });
    if (!r.ok) return reportFailure(io, r.error);
    const v = r.value.body.data;
    io.out(a.bool("json") ? json(v) : kv([["certificate", v.id], ["status", v.status], ["revoked", v.revoked_at], ["reason", v.revocation_reason]]));
    return EXIT.ok;
  },
};
