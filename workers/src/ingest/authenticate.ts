import type { Context } from "hono";
import { verifyIngestToken, type AgentRecord, type CertStatusRecord, type IngestTokenClaims } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";
import { edgeProblem } from "../http/problems.ts";
import { ledger } from "../ledger/client.ts";

export interface IngestCaller {
  claims: IngestTokenClaims;
  cert: CertStatusRecord;
}

/**
 * Resolves `Authorization: Bearer <ingest token>` without calling the origin: the token's HMAC and
 * expiry (401 when wrong), then the certificate it was minted under, which must still be the
 * agent's current, active, unexpired certificate (403 otherwise: revoked, expired, replaced).
 */
export async function authenticateIngest(c: Context<EdgeEnv>): Promise<IngestCaller | Response> {
  const header = c.req.header("authorization") ?? "";
  const m = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(header.trim());
  const challenge = { "www-authenticate": 'Bearer realm="kakunin-ingest"' };
  if (!m) return edgeProblem(c, "unauthorized", header ? "Malformed Authorization header." : "Missing ingest token.", { headers: challenge });
  const secret = c.env.KAKUNIN_EDGE_SECRET;
  if (!secret) return edgeProblem(c, "internal-error", "KAKUNIN_EDGE_SECRET is not configured at the edge.");
  const v = await verifyIngestToken(secret, m[1]!);
  if (!v.ok) {
    return edgeProblem(c, "unauthorized", v.error === "expired" ? "The ingest token has expired." : "Invalid ingest token.", {
      headers: { "www-authenticate": 'Bearer realm="kakunin-ingest", error="invalid_token"' },
    });
  }
  const claims = v.claims;
  let [certRaw, agentRaw] = await Promise.all([
    c.env.CERT_STATUS.get(`cert:${claims.serial}`),
    c.env.CERT_STATUS.get(`agent:${claims.agent_id}`),
  ]);
  if (!certRaw) {
    // KV may not have it yet (and caches misses): the ledger is authoritative. A freshly certified
    // agent posting at once must not be refused for a propagation delay.
    [certRaw, agentRaw] = await Promise.all([ledger(c.env).get(`cert:${claims.serial}`), ledger(c.env).get(`agent:${claims.agent_id}`)]);
  }
  if (!certRaw) {
    return edgeProblem(c, "status-not-propagated", "This edge has not received the token's certificate yet; retry shortly.", { headers: { "retry-after": "1" } });
  }
  const cert = JSON.parse(certRaw) as CertStatusRecord;
  const agent = agentRaw ? (JSON.parse(agentRaw) as AgentRecord) : undefined;
  if (cert.agent_id !== claims.agent_id) return edgeProblem(c, "forbidden", "The token does not match its certificate.");
  if (cert.status === "revoked") return edgeProblem(c, "forbidden", `The agent's certificate ${cert.serial_number} is revoked (${cert.revocation_reason ?? "no reason"}).`);
  if (Date.now() >= Date.parse(cert.not_after)) return edgeProblem(c, "forbidden", `The agent's certificate ${cert.serial_number} has expired.`);
  // The agent record only overrides the certificate record when it is newer (KV reads of the two
  // keys may be at different versions for a moment).
  if (agent && agent.v > cert.v) {
    if (agent.status !== "active") return edgeProblem(c, "forbidden", `The agent is ${agent.status}.`);
    if (agent.current_serial !== cert.serial_number) return edgeProblem(c, "forbidden", "The token was minted for a certificate the agent no longer uses.");
  }
  return { claims, cert };
}
