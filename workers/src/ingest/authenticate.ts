import type { Context } from "hono";
import { verifyIngestToken, type AgentRecord, type CertStatusRecord, type IngestTokenClaims } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";
import { edgeProblem } from "../http/problems.ts";
import { fromStore } from "../http/store-unavailable.ts";
import { ledger } from "../ledger/client.ts";
import { statusAt } from "@kakunin/verify/rules";

/** Renewals followed from a token's certificate to the agent's current one (each renewal is one hop). */
const MAX_RENEWAL_HOPS = 8;

/** A certificate's status record: KV first, the ledger when KV has not seen it yet. */
async function readCert(c: Context<EdgeEnv>, serial: string): Promise<CertStatusRecord | undefined> {
  const key = `cert:${serial}`;
  const raw = (await fromStore("status store", () => c.env.CERT_STATUS.get(key))) ?? (await fromStore("status ledger", () => ledger(c.env, key).get(key)));
  return raw ? (JSON.parse(raw) as CertStatusRecord) : undefined;
}

export interface IngestCaller {
  claims: IngestTokenClaims;
  cert: CertStatusRecord;
  /** The agent's record when this edge has it (sensitivity for scoring). */
  agent: AgentRecord | undefined;
}

/**
 * Resolves `Authorization: Bearer <ingest token>` without calling the origin: the token's HMAC and
 * expiry (401 when wrong), then the certificate it was minted under, which must still be the
 * agent's current, active, unexpired certificate (403 otherwise: revoked, expired, replaced), or
 * one it was renewed into.
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
  const [certKey, agentKey] = [`cert:${claims.serial}`, `agent:${claims.agent_id}`];
  // One KV operation for both keys.
  const both = await fromStore("status store", () => c.env.CERT_STATUS.get([certKey, agentKey], "text"));
  let [certRaw, agentRaw] = [both.get(certKey) ?? null, both.get(agentKey) ?? null];
  if (!certRaw) {
    // KV may not have it yet (and caches misses): the ledger is authoritative. A freshly certified
    // agent posting at once must not be refused for a propagation delay.
    [certRaw, agentRaw] = await Promise.all([
      fromStore("status ledger", () => ledger(c.env, certKey).get(certKey)),
      fromStore("status ledger", () => ledger(c.env, agentKey).get(agentKey)),
    ]);
  }
  if (!certRaw) {
    return edgeProblem(c, "status-not-propagated", "This edge has not received the token's certificate yet; retry shortly.", { headers: { "retry-after": "1" } });
  }
  let cert = JSON.parse(certRaw) as CertStatusRecord;
  const agent = agentRaw ? (JSON.parse(agentRaw) as AgentRecord) : undefined;
  if (cert.agent_id !== claims.agent_id) return edgeProblem(c, "forbidden", "The token does not match its certificate.");
  // Whatever the record's version: the list of revoked credentials only grows while their tokens live.
  const voided = voidedBy(claims, agent);
  if (voided) return edgeProblem(c, "unauthorized", voided, { headers: { "www-authenticate": 'Bearer realm="kakunin-ingest", error="invalid_token"' } });
  const now = Date.now();
  // The agent record only overrides the certificate record when it is newer (KV reads of the two
  // keys may be at different versions for a moment).
  const agentNewer = (x: CertStatusRecord) => agent !== undefined && agent.v > x.v;
  // Tokens follow renewals: a token minted under a renewed certificate speaks for its successor, so
  // an agent keeps posting across a renewal (and past the old certificate's end) without an outage.
  for (let hops = 0; hops < MAX_RENEWAL_HOPS && cert.status !== "revoked" && cert.superseded_by; hops++) {
    const moved = statusAt(cert, now) !== "active" || (agentNewer(cert) && agent!.current_serial !== cert.serial_number);
    if (!moved) break;
    const next = await readCert(c, cert.superseded_by);
    if (!next || next.agent_id !== claims.agent_id) break;
    cert = next;
  }
  const status = statusAt(cert, now);
  if (status === "revoked") return edgeProblem(c, "forbidden", `The agent's certificate ${cert.serial_number} is revoked (${cert.revocation_reason ?? "no reason"}).`);
  if (status === "superseded") return edgeProblem(c, "forbidden", `The agent's certificate ${cert.serial_number} was superseded by ${cert.superseded_by ?? "a renewal"} and its successor is not available here.`);
  if (status === "expired") return edgeProblem(c, "forbidden", `The agent's certificate ${cert.serial_number} has expired.`);
  if (agent && agentNewer(cert)) {
    if (agent.status !== "active") return edgeProblem(c, "forbidden", `The agent is ${agent.status}.`);
    // Inside a renewal overlap the predecessor still speaks for the agent while its successor propagates.
    const inOverlap = cert.superseded_by === agent.current_serial;
    if (agent.current_serial !== cert.serial_number && !inOverlap) return edgeProblem(c, "forbidden", "The token was minted for a certificate the agent no longer uses.");
  }
  return { claims, cert, agent };
}

/** Why the agent's record voids this token (its minting credential was revoked), if it does. */
function voidedBy(claims: IngestTokenClaims, agent: AgentRecord | undefined): string | undefined {
  if (!agent) return undefined;
  if (claims.cred !== undefined && agent.revoked_credentials?.includes(claims.cred)) return "The agent credential that minted this ingest token was revoked.";
  if (claims.key !== undefined && agent.revoked_credentials?.includes(claims.key)) return "The API key that minted this ingest token was revoked.";
  if (agent.tokens_issued_after !== undefined && claims.iat <= agent.tokens_issued_after) return "Ingest tokens issued before the agent's latest credential revocation are void; mint a new one.";
  return undefined;
}
