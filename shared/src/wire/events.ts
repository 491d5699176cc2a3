import { z } from "zod";
import { eventSchema } from "../events.ts";
import { SERIAL_PATTERN } from "../schemas.ts";

/** Edge → origin: each accepted event with its score, exactly as scored, stored once per event_id. */
export const EVENTS_PATH = "/internal/v1/events";
/** The origin's request limit (KAKUNIN_MAX_BODY_BYTES default); the monitor counts UTF-8 bytes against it. */
export const EVENTS_MAX_BYTES = 1024 * 1024;
export const EVENTS_MAX_PER_BATCH = 1000;

export const reasonSchema = z.object({ feature: z.string().max(64), contribution: z.number().min(0).max(1), detail: z.string().max(512) });
const uuid = z.uuid();

export const forwardedEventSchema = z.object({
  agent_id: uuid,
  tenant_id: uuid,
  serial_number: z.string().regex(SERIAL_PATTERN),
  event: eventSchema,
  score: z.number().min(0).max(1),
  band: z.enum(["low", "medium", "high"]),
  reasons: z.array(reasonSchema).max(32),
  received_at: z.iso.datetime(),
});

export const forwardedEventsSchema = z.object({
  wire_version: z.number().int().optional(),
  // The event itself carries the well-formedness refinement (eventSchema); the rest is the edge's own output.
  events: z.array(forwardedEventSchema).min(1).max(EVENTS_MAX_PER_BATCH),
});

export const storedEventsAckSchema = z.object({
  stored: z.number().int(), duplicates: z.number().int(), rejected: z.number().int(),
  /** Events the origin could not store (kept in its dead-letter table, acknowledged so they never jam). */
  dead_lettered: z.number().int().optional(),
});

export type ForwardedEvent = z.infer<typeof forwardedEventSchema>;
export type ForwardedEvents = z.infer<typeof forwardedEventsSchema>;
