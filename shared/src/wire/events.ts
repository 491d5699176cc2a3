import { z } from "zod";
import { acceptedEventSchema } from "../events.ts";
import { SERIAL_PATTERN } from "../schemas.ts";

/** Edge → origin: each accepted event with its score, exactly as scored, stored once per event_id. */
export const EVENTS_PATH = "/internal/v1/events";
/** The origin's request limit (KAKUNIN_MAX_BODY_BYTES default); the monitor counts UTF-8 bytes against it. */
export const EVENTS_MAX_BYTES = 1024 * 1024;
export const EVENTS_MAX_PER_BATCH = 1000;

export const reasonSchema = z.object({ feature: z.string().max(64), contribution: z.number().min(0).max(1), detail: z.string().max(512) });
const uuid = z.uuid();
const band = z.enum(["low", "medium", "high"]);

/** What the tenant's shadow scoring candidate would have said about one event (GET /v1/tenant/scoring/shadow). */
export const shadowVerdictSchema = z.object({
  score: z.number().min(0).max(1), band, risk_band: band, active_band: band, active_risk_band: band,
  /** The candidate would have moved the agent into high with this event (and the active configuration did not). */
  would_become_high: z.boolean(),
  /**
   * Which candidate gave the verdict (its `since`): for a while after a new candidate is set the
   * edge still applies the previous one, and the report must not count those. Absent from older edges.
   */
  since: z.string().max(64).optional(),
});

export const forwardedEventSchema = z.object({
  agent_id: uuid,
  tenant_id: uuid,
  serial_number: z.string().regex(SERIAL_PATTERN),
  // Already accepted at the door, perhaps by an older edge under its rules: never refused here for them.
  event: acceptedEventSchema,
  score: z.number().min(0).max(1),
  band: z.enum(["low", "medium", "high"]),
  reasons: z.array(reasonSchema).max(32),
  received_at: z.iso.datetime(),
  /** The shadow candidate's verdict, forwarded only when it differs from the active one. */
  shadow: shadowVerdictSchema.optional(),
});

export const forwardedEventsSchema = z.object({
  wire_version: z.number().int().optional(),
  // The event itself carries the well-formedness refinement (acceptedEventSchema); the rest is the edge's own output.
  events: z.array(forwardedEventSchema).min(1).max(EVENTS_MAX_PER_BATCH),
});

export const storedEventsAckSchema = z.object({
  stored: z.number().int(), duplicates: z.number().int(), rejected: z.number().int(),
  /** Events the origin could not store (kept in its dead-letter table, acknowledged so they never jam). */
  dead_lettered: z.number().int().optional(),
});

export type ShadowVerdict = z.infer<typeof shadowVerdictSchema>;
export type ForwardedEvent = z.infer<typeof forwardedEventSchema>;
export type ForwardedEvents = z.infer<typeof forwardedEventsSchema>;
