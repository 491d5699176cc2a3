import { z } from "zod";

/**
 * Edge → origin: a record the edge gave up on after bounded retries (the origin refused it), so an
 * operator sees every dead letter in one place (`GET /v1/admin/dead-letters`) and can replay it.
 * The payload travels as JSON *text*: a record refused for malformed Unicode must still be storable.
 */
export const DEAD_LETTERS_PATH = "/internal/v1/dead-letters";

export const deadLetterReportSchema = z.object({
  wire_version: z.number().int().optional(),
  letters: z.array(z.object({
    /** Stable id at the edge (`edge:<agent>:<kind>:<ref>`): a re-sent report is stored once. */
    key: z.string().min(1).max(400),
    kind: z.enum(["event", "alert"]),
    tenant_id: z.uuid(),
    agent_id: z.uuid(),
    ref: z.string().max(200),
    status: z.number().int(),
    error: z.string().max(2000),
    attempts: z.number().int(),
    payload_json: z.string().max(512 * 1024),
    first_failed_at: z.iso.datetime(),
  })).min(1).max(100),
});

export type DeadLetterReport = z.infer<typeof deadLetterReportSchema>;
