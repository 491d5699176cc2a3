import { z } from "zod";
import { SERIAL_PATTERN } from "../schemas.ts";
import { refineWellFormed } from "../unicode.ts";
import { reasonSchema } from "./events.ts";

/** Edge → origin: an agent's risk reached high; the origin applies the tenant's policy (idempotent per alert). */
export const RISK_ALERTS_PATH = "/internal/v1/risk-alerts";

export const riskAlertSchema = z.object({
  wire_version: z.number().int().optional(),
  alert_id: z.string().min(1).max(128),
  agent_id: z.uuid(),
  tenant_id: z.uuid(),
  serial_number: z.string().regex(SERIAL_PATTERN),
  score: z.number().min(0).max(1),
  reasons: z.array(reasonSchema).max(32),
  event_ids: z.array(z.string().max(128)).max(1000),
  triggered_at: z.iso.datetime(),
}).superRefine(refineWellFormed);

export type RiskAlert = z.infer<typeof riskAlertSchema>;
