/** `kakunin review <agent> --clear|--revoke|--reinstate --reason R`: POST /v1/agents/:id/review. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, UsageError, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "review <agent-id> --clear|--revoke|--reinstate --reason R [--alerts N] [--opened-at T] [--json]";

const help = helpText(
  synopsis,
  `
Decides on an agent in the review queue (admin; audited):
  --clear      a false positive: the flag is lifted and the reviewed events become normal history
  --revoke     confirmed: the active certificate is revoked and the agent suspended
  --reinstate  a false positive that was auto-revoked: the risk suspension is lifted (certify again)`,
  [
    "  --reason R   why, in words (required; kept in the audit log)",
    "  --alerts N   the alerts you decided on (the queue's ALERTS column): refused, nothing decided, if more are open now",
    "  --opened-at T  the queue's SINCE for the agent you decided on: refused, nothing decided, if its oldest open alert is another",
    ORIGIN_HELP,
    JSON_HELP,
  ],
);

const DECISIONS = ["clear", "revoke", "reinstate"] as const;
/** The API's own cap on `alerts` (origin v1_agents_review.ts): above it the API answers 422, a refusal, not a usage error. */
const MAX_ALERTS = 1_000_000;

export const review: Command = {
  name: "review",
  synopsis,
  summary: "clear, revoke or reinstate a reviewed agent",
  help,
  spec: { strings: ["reason", "alerts", "opened-at", "origin", "api-key"], booleans: ["clear", "revoke", "reinstate", "json"], positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const chosen = DECISIONS.filter((d) => a.bool(d));
    if (chosen.length !== 1) throw new UsageError("give exactly one of --clear, --revoke, --reinstate", help);
    const reason = a.req("reason");
    // Checked here, not left to the API: a typo is a usage error (exit 2), not a refusal (exit 3).
    const alerts = a.str("alerts");
    const openedAt = a.str("opened-at");
    if (alerts !== undefined && (!/^\d{1,7}$/.test(alerts) || Number(alerts) < 1 || Number(alerts) > MAX_ALERTS))
      throw new UsageError(`--alerts must be a whole number from 1 to ${MAX_ALERTS}, got ${alerts}`, help);
    const r = await call<{ data: { id: string; decision: string; agent_status: string; closed_alerts: number } }>(
      "POST",
      originEndpoint(resolveSettings(a, help)),
      `/v1/agents/${encodeURIComponent(id)}/review`,
      {
        body: {
          decision: chosen[0],
          reason,
          ...(alerts !== undefined && { alerts: Number(alerts) }),
          // Passed as given: the API checks the time and names it in a 422.
          ...(openedAt !== undefined && { opened_at: openedAt }),
        },
      },
    );
    if (!r.ok) return reportFailure(io, r.error);
    const v = r.value.body.data;
    io.out(
      a.bool("json")
        ? json(v)
        : kv([
            ["review", v.id],
            ["decision", v.decision],
            ["agent status", v.agent_status],
            ["alerts closed", v.closed_alerts],
          ]),
    );
    return EXIT.ok;
  },
};
