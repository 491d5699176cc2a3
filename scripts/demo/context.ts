/** What every step of the story shares: the running system, the admin key, where files go. */
import { call, type Answer } from "./http.ts";
import type { Service } from "./launcher.ts";
import type { Runner } from "./runner.ts";

export interface Ctx {
  run: Runner;
  root: string;
  dataDir: string;
  adminKey: string;
  origin: Service;
  edge: Service;
}

/** An origin API call as the tenant's admin. */
export function admin<T>(ctx: Ctx, method: string, path: string, body?: unknown): Promise<Answer<T>> {
  return call<T>(method, `${ctx.origin.url}${path}`, { bearer: ctx.adminKey, body });
}

export type Band = "low" | "medium" | "high";

export interface Reason {
  feature: string;
  contribution: number;
  detail: string;
}

export interface VerifyView {
  serial_number: string;
  status: "active" | "revoked" | "expired";
  valid: boolean;
  not_before: string;
  revoked_at: string | null;
  revocation_reason: string | null;
  risk: { score: number; band: Band };
}

/** GET /v1/verify/:serial at the edge: public, what a gateway calls before letting an agent act. */
export function verifyAtEdge(ctx: Ctx, serial: string): Promise<Answer<{ data: VerifyView }>> {
  return call<{ data: VerifyView }>("GET", `${ctx.edge.url}/v1/verify/${serial}`);
}

export interface Agent {
  id: string;
  name: string;
  status: string;
  scopes: string[];
  model: { name: string; version: string; hash: string };
}

export interface Certificate {
  id: string;
  serial_number: string;
  kms_key_arn: string;
  issued_at: string;
  expires_at: string;
}
