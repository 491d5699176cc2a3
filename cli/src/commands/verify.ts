/** `kakunin verify <serial>`: what a gateway asks the edge before trusting an agent. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { edgeEndpoint, resolveSettings } from "../config.ts";
import { verifySerial, type Verification } from "../edge-verify.ts";
import { EDGE_HELP, helpText, JSON_HELP } from "../help-text.ts";
import { reportFailure } from "../http.ts";
import { EXIT, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "verify <serial> [--model-hash H] [--scope S]... [--strong] [--json]";

const help = helpText(synopsis, `
Checks a certificate at the edge (GET /v1/verify/:serial, public, no key): status, whether it is
valid, and why not; the agent, its model and its current risk. --model-hash and --scope add the
checks a gateway makes: the certificate must bind that model and grant those scopes.`, [
  "  --model-hash H   the certificate must bind this model hash (sha256:<64 hex>)",
  "  --scope S        the agent must be granted this action (repeat)",
  "  --strong         read the edge's ledger, not its cache (sees every revocation at once)",
  EDGE_HELP, JSON_HELP,
], `Exit codes: 0 valid, 1 not valid (revoked, expired, suspended, model or scope mismatch),
            2 usage, 3 refused (404 unknown serial, 400 malformed serial, 422 bad check),
            4 unreachable, timeout or 5xx.`);

/** The verdict without the certificate PEM (that is for gateways checking proof of possession). */
function render(v: Verification): string {
  const head = v.valid ? "✓ valid\n" : "✗ not valid\n";
  const body = kv([
    ["serial", v.serial_number],
    ["status", v.status],
    ["agent", v.agent_urn],
    ["tenant", v.tenant_id],
    ["model", `${v.model.name} ${v.model.version} ${v.model.hash}`],
    ["scopes", v.scopes.length ? v.scopes.join(", ") : "(none)"],
    ["validity", `${v.not_before} .. ${v.not_after}`],
    ["revoked", v.revoked_at === null ? undefined : `${v.revoked_at} (${v.revocation_reason ?? "no reason"})`],
    ["risk", `${v.risk.score.toFixed(3)} (${v.risk.band})`],
    ["checked", v.checked_at],
  ]);
  const reasons = v.reasons.map((r) => `  - ${r.code}: ${r.detail}\n`).join("");
  return head + body + (reasons ? `reasons:\n${reasons}` : "");
}

export const verify: Command = {
  name: "verify",
  synopsis,
  summary: "check a certificate at the edge (exit 0 valid, 1 not valid)",
  help,
  spec: { strings: ["model-hash", "edge"], lists: ["scope"], booleans: ["strong", "json"], positionals: ["serial"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const serial = a.req("serial");
    const edge = edgeEndpoint(resolveSettings(a, help));
    const r = await verifySerial(edge, serial, { modelHash: a.str("model-hash"), scopes: a.list("scope"), strong: a.bool("strong") });
    if (!r.ok) return reportFailure(io, r.error);
    io.out(a.bool("json") ? json(r.value) : render(r.value));
    return r.value.valid ? EXIT.ok : EXIT.failed;
  },
};
