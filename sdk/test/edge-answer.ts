/** A well-formed active verify answer for `serial`, as the edge sends it without `?include=`; `extra` overrides fields. */
export function activeAnswer(serial: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    serial_number: serial,
    status: "active",
    valid: true,
    reasons: [],
    scopes: ["*"],
    model: { name: "m", version: "1", hash: `sha256:${"ab".repeat(32)}` },
    not_before: "2026-01-01T00:00:00Z",
    not_after: "2099-01-01T00:00:00Z",
    agent_id: "a",
    agent_urn: "urn:kakunin:agent:a",
    tenant_id: "t",
    revoked_at: null,
    revocation_reason: null,
    risk: { score: 0, band: "low" },
    checked_at: "2026-12-03T00:00:00Z",
    ...extra,
  };
}
