/** An agent as the origin returns it, and how the CLI prints one. */
import { kv, table } from "./render.ts";

export interface Agent {
  id: string;
  urn: string;
  tenant_id: string;
  name: string;
  model: { name: string; version: string; hash: string };
  owner: { name: string; email: string };
  scopes: string[];
  status: "active" | "suspended" | "retired";
  review_required: boolean;
  created_at: string;
  updated_at: string;
}

export function renderAgent(a: Agent): string {
  return kv([
    ["id", a.id],
    ["urn", a.urn],
    ["name", a.name],
    ["status", a.review_required ? `${a.status} (review required)` : a.status],
    ["model", `${a.model.name} ${a.model.version}`],
    ["model hash", a.model.hash],
    ["owner", `${a.owner.name} <${a.owner.email}>`],
    ["scopes", a.scopes.length ? a.scopes.join(", ") : "(none)"],
    ["tenant", a.tenant_id],
    ["created", a.created_at],
    ["updated", a.updated_at],
  ]);
}

export function renderAgentTable(agents: readonly Agent[]): string {
  if (agents.length === 0) return "no agents\n";
  return table(["ID", "NAME", "STATUS", "MODEL", "CREATED"], agents.map((a) => [a.id, a.name, a.status, `${a.model.name} ${a.model.version}`, a.created_at]));
}
