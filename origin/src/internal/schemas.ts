import { z } from "zod";
import { eventSchema } from "@kakunin/shared";

const reason = z.object({ feature: z.string().max(64), contribution: z.number().min(0).max(1), detail: z.string().max(512) });
const uuid = z.uuid();

/** What an AgentMonitor forwards: each accepted event with its score, exactly as scored. */
export const forwardedEvents = z.object({
  events: z.array(z.object({
    agent_id: uuid,
    tenant_id: uuid,
    serial_number: z.string().regex(/^[0-9a-f]{1,40}$/),
    event: eventSchema,
    score: z.number().min(0).max(1),
    band: z.enum(["low", "medium", "high"]),
    reasons: z.array(reason).max(32),
    received_at: z.iso.datetime(),
  })).min(1).max(1000),
});

/** An agent's risk reached high: the monitor asks the origin to apply the tenant's policy. */
export const riskAlert = z.object({
  alert_id: z.string().min(1).max(128),
  agent_id: uuid,
  tenant_id: uuid,
  serial_number: z.string().regex(/^[0-9a-f]{1,40}$/),
  score: z.number().min(0).max(1),
  reasons: z.array(reason).max(32),
  event_ids: z.array(z.string().max(128)).max(1000),
  triggered_at: z.iso.datetime(),
});

export type ForwardedEvents = z.infer<typeof forwardedEvents>;
export type RiskAlert = z.infer<typeof riskAlert>;
