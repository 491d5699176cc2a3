import { z } from "zod";
import type { AgentRow } from "../db/rows.ts";
import { agentUrn } from "../ca/profiles.ts";
import { rfc3339 } from "../time.ts";

export const agentView = z.object({
  id: z.uuid(),
  urn: z.string(),
  tenant_id: z.uuid(),
  name: z.string(),
  model: z.object({ name: z.string(), version: z.string(), hash: z.string() }),
  owner: z.object({ name: z.string(), email: z.string() }),
  scopes: z.array(z.string()),
  status: z.enum(["active", "suspended", "retired"]),
  /** True when a high risk was flagged for human review (tenant policy auto_revoke off). */
  review_required: z.boolean(),
  /** How strongly the tenant's scoring treats this agent's evidence: low ×0.5, normal ×1, high ×2. */
  sensitivity: z.enum(["low", "normal", "high"]),
  created_at: z.string(),
  updated_at: z.string(),
});
export type AgentView = z.infer<typeof agentView>;

export function toAgentView(a: AgentRow): AgentView {
  return {
    id: a.id,
    urn: agentUrn(a.id),
    tenant_id: a.tenantId,
    name: a.name,
    model: { name: a.modelName, version: a.modelVersion, hash: a.modelHash },
    owner: { name: a.ownerName, email: a.ownerEmail },
    scopes: a.scopes,
    status: a.status,
    review_required: a.reviewRequestedAt !== null,
    sensitivity: a.sensitivity,
    created_at: rfc3339(a.createdAt),
    updated_at: rfc3339(a.updatedAt),
  };
}
