import { env, exports } from "cloudflare:workers";
import { mintIngestToken, signInternal, type AgentRecord, type CertStatusRecord, type EdgeRecord, type TenantScoring } from "@kakunin/shared";

export const SECRET = "test-edge-secret-0123456789abcdef0123456789abcdef";
export const HASH = `sha256:${"ab".repeat(32)}`;

let seq = 0;
/** Monotonic versions across a test file, as the origin's outbox would hand out. */
export function nextV(): number {
  return ++seq * 10;
}

export function certRec(overrides: Partial<CertStatusRecord> = {}): CertStatusRecord {
  const agent = overrides.agent_id ?? crypto.randomUUID();
  return {
    kind: "cert",
    v: nextV(),
    serial_number: Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("").replace(/^./, "4"),
    certificate_id: crypto.randomUUID(),
    status: "active",
    agent_id: agent,
    agent_urn: `urn:kakunin:agent:${agent}`,
    tenant_id: crypto.randomUUID(),
    agent_status: "active",
    model: { name: "gpt-4o", version: "2024-08-06", hash: HASH },
    scopes: ["orders.*", "crm.lookup_customer"],
    not_before: new Date(Date.now() - 60_000).toISOString(),
    not_after: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    revoked_at: null,
    revocation_reason: null,
    revocation_code: null,
    certificate_pem: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
    ocsp_b64: null,
    ...overrides,
  };
}

export function agentRec(overrides: Partial<AgentRecord> = {}): AgentRecord {
  return { kind: "agent", v: nextV(), agent_id: crypto.randomUUID(), tenant_id: crypto.randomUUID(), status: "active", current_serial: null, ...overrides };
}

/** A correctly signed publish call, as the origin makes it. */
export async function publish(records: EdgeRecord[], opts: { secret?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  const body = opts.body ?? JSON.stringify({ records });
  const signed = await signInternal(opts.secret ?? SECRET, "POST", "/internal/v1/publish", body);
  return exports.default.fetch("http://edge/internal/v1/publish", {
    method: "POST",
    headers: { "content-type": "application/json", ...signed, ...opts.headers },
    body,
  });
}

export async function verify(serial: string, query = ""): Promise<Response> {
  return exports.default.fetch(`http://edge/v1/verify/${serial}${query}`);
}

/**
 * An agent with an active certificate and agent record at the edge, and an ingest token minted for
 * that certificate; with `o`, its sensitivity and its tenant's scoring overrides published too.
 */
export async function enrolledAgent(
  overrides: Partial<CertStatusRecord> = {},
  o: { scoring?: TenantScoring; sensitivity?: AgentRecord["sensitivity"] } = {},
): Promise<{ cert: CertStatusRecord; token: string }> {
  const cert = certRec(overrides);
  const agent = agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: cert.serial_number, ...(o.sensitivity && { sensitivity: o.sensitivity }) });
  const scoring: EdgeRecord[] = o.scoring ? [{ kind: "scoring", v: nextV(), tenant_id: cert.tenant_id, scoring: o.scoring }] : [];
  await publish([cert, agent, ...scoring]);
  const now = Math.floor(Date.now() / 1000);
  const token = await mintIngestToken(SECRET, { agent_id: cert.agent_id, tenant_id: cert.tenant_id, serial: cert.serial_number, iat: now, exp: now + 3600, jti: crypto.randomUUID() });
  return { cert, token };
}

/** POST /v1/events with the agent's ingest token: the response body. */
export async function postEvents<T>(token: string, events: object[]): Promise<T> {
  const res = await exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });
  return res.json<T>();
}

export { env };
