/** `kakunin risk <agent-id>`: the agent's current risk at the edge. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { edgeEndpoint, resolveSettings } from "../config.ts";
import { EDGE_HELP, helpText, JSON_HELP, CREDENTIAL_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { resolveIngestToken } from "../ingest-token.ts";
import { EXIT, type Io } from "../io.ts";
import { indent, json, kv, table } from "../render.ts";

const synopsis = "risk <agent-id> [--token T] [--json]";

const help = helpText(synopsis, `
Shows the agent's current risk as its monitor at the edge computes it (GET /v1/agents/:id/risk):
score, band (low < 0.3 <= medium < 0.85 <= high), the reasons behind it, events scored. The edge
answers the agent's own ingest token: --token, else KAKUNIN_INGEST_TOKEN, else one minted for the
agent with the API key (the agent needs an active certificate for that).`, [
  "  --token T        the agent's ingest token",
  EDGE_HELP, ORIGIN_HELP, CREDENTIAL_HELP, JSON_HELP,
]);

interface Reason { feature: string; contribution: number; detail: string }
interface RiskView { agent_id: string; score: number; band: string; reasons: Reason[]; events_scored: number; updated_at: string | null }

export const risk: Command = {
  name: "risk",
  synopsis,
  summary: "an agent's current risk score, band and reasons",
  help,
  spec: { strings: ["token", "edge", "origin", "api-key", "credential"], booleans: ["json"], positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const s = resolveSettings(a, help);
    const token = await resolveIngestToken(a, s, help, id);
    if (!token.ok) return reportFailure(io, token.error);
    const r = await call<{ data: RiskView }>("GET", edgeEndpoint(s, token.value), `/v1/agents/${encodeURIComponent(id)}/risk`);
    if (!r.ok) return reportFailure(io, r.error);
    const v = r.value.body.data;
    if (a.bool("json")) {
      io.out(json(v));
      return EXIT.ok;
    }
    const reasons = v.reasons.length
      ? `reasons:\n${indent(table(["FEATURE", "CONTRIBUTION", "DETAIL"], v.reasons.map((x) => [x.feature, x.contribution.toFixed(3), x.detail])))}`
      : "";
    io.out(kv([["agent", v.agent_id], ["score", v.score.toFixed(3)], ["band", v.band], ["events scored", v.events_scored], ["updated", v.updated_at]]) + reasons);
    return EXIT.ok;
  },
};
