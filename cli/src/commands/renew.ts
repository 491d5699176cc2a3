/** `kakunin renew <agent-id>`: POST /v1/agents/:id/certificates/renew, optionally saving the PEM. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, UsageError, type Io } from "../io.ts";
import { json, kv } from "../render.ts";
import { savePem } from "../save-pem.ts";
import { parseDurationSeconds } from "../duration.ts";

const synopsis = "renew <agent-id> [--overlap 24h] [--out cert.pem] [--json]";

const help = helpText(synopsis, `
Renews the agent's certificate without an outage (POST /v1/agents/:id/certificates/renew): a
successor with a fresh key becomes the agent's certificate at once, and the current one stays valid
for the overlap (default: the tenant's policy, else 24 h), then is superseded (CRL reason 4, not a
revocation). Refused (exit 3) when the agent has no active certificate (409), is retired (422) or
unknown (404).`, [
  "  --overlap D      how long the current certificate stays valid: 30s, 15m, 24h, 7d (max 30d)",
  "  --out cert.pem   also write the new certificate (PEM) to this file",
  ORIGIN_HELP, JSON_HELP,
]);

interface Renewed {
  id: string;
  agent_id: string;
  serial_number: string;
  certificate_pem: string;
  kms_key_arn: string;
  expires_at: string;
  predecessor: { id: string; serial_number: string; superseded_at: string };
  overlap_seconds: number;
}

export const renew: Command = {
  name: "renew",
  synopsis,
  summary: "renew an agent's certificate with an overlap (no downtime)",
  help,
  spec: { strings: ["overlap", "out", "origin", "api-key"], booleans: ["json"], positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const overlapArg = a.str("overlap");
    const overlap = overlapArg === undefined ? undefined : parseDurationSeconds(overlapArg);
    if (overlapArg !== undefined && overlap === undefined) throw new UsageError(`--overlap: "${overlapArg}" is not a duration like 30s, 15m, 24h or 7d`, help);
    const r = await call<{ data: Renewed }>("POST", originEndpoint(resolveSettings(a, help)), `/v1/agents/${encodeURIComponent(id)}/certificates/renew`, {
      body: overlap === undefined ? {} : { overlap_seconds: overlap },
    });
    if (!r.ok) return reportFailure(io, r.error);
    const c = r.value.body.data;
    const out = a.str("out");
    const pem = await savePem(out, c);
    if (a.bool("json")) {
      io.out(json(c));
      return EXIT.ok;
    }
    io.out(kv([
      ["certificate", c.id], ["serial", c.serial_number], ["agent", c.agent_id], ["expires", c.expires_at],
      ["replaces", c.predecessor.serial_number], ["old valid until", `${c.predecessor.superseded_at} (overlap ${c.overlap_seconds}s)`],
      ["key", c.kms_key_arn], ["pem", pem],
    ]));
    return EXIT.ok;
  },
};
