import { z } from "zod";
import { PLAIN_LINE_PATTERN, PLAIN_MESSAGE, PLAIN_TEXT_PATTERN } from "./schemas.ts";
import { refineWellFormed, utf8Length } from "./unicode.ts";
import { volumeKeyOf, type VolumeUnitName } from "./volume-keys.ts";

/** Limits of the ingest contract (design "Conventions"). */
export const MAX_EVENTS_PER_BATCH = 1000;
export const MAX_ATTRIBUTES_BYTES = 8 * 1024;
export const MAX_EVENT_AGE_MS = 30 * 86_400_000;
/** Clock skew tolerated for events stamped slightly in the future. */
export const MAX_EVENT_FUTURE_MS = 5 * 60_000;
/**
 * The oldest timestamp accepted, before the time of receipt: 30 days plus the same skew. An event
 * a client stamps exactly 30 days back arrives a moment later (or its clock runs a little ahead);
 * the contract accepts events "up to 30 days old", so that boundary must not be a race. Still well
 * inside the edge's 31-day memory of event_ids, so a retry can never be scored twice.
 */
export const MAX_EVENT_LATE_MS = MAX_EVENT_AGE_MS + MAX_EVENT_FUTURE_MS;

export const EVENT_TYPES = ["tool_call", "api_request", "data_access", "transaction", "message"] as const;
export const OUTCOMES = ["success", "error", "denied"] as const;

const utf8Bytes = (v: unknown) => utf8Length(JSON.stringify(v));

/**
 * An event. `door`: the rules at the public ingest door, where an action or resource that steers a
 * terminal or reorders text is refused (PLAIN_LINE_PATTERN; a resource may hold tabs and line
 * breaks, e.g. a query). The edge's forwarding to the origin and dead-letter replay check events
 * already accepted, possibly by an older edge, with the rules they were accepted under: refusing
 * them there would lose acknowledged events. People only ever see them escaped (CLI, report).
 */
function eventShape(door: boolean) {
  return z.strictObject({
    event_id: z.string().min(1).max(128).regex(/^[\x21-\x7e]*$/, "printable ASCII without spaces"),
    timestamp: z.iso.datetime({ offset: true }),
    type: z.enum(EVENT_TYPES),
    action: z.string().min(1).max(128).regex(door ? PLAIN_LINE_PATTERN : /^[^\u0000-\u001f\u007f]*$/, door ? PLAIN_MESSAGE : "must not contain control characters"),
    resource: (door ? z.string().min(1).max(512).regex(PLAIN_TEXT_PATTERN, PLAIN_MESSAGE) : z.string().min(1).max(512)).optional(),
    amount: z.number().finite().nonnegative().max(1e15).optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, "ISO 4217 code, e.g. EUR").optional(),
    outcome: z.enum(OUTCOMES),
    latency_ms: z.number().finite().nonnegative().max(86_400_000).optional(),
    attributes: z
      .record(z.string().max(128), z.unknown())
      .optional()
      .refine((a) => a === undefined || utf8Bytes(a) <= MAX_ATTRIBUTES_BYTES, { message: `attributes exceed ${MAX_ATTRIBUTES_BYTES} bytes` }),
    // Every string, keys and nested attributes included, must be storable as UTF-8 (design: 422).
  }).superRefine(refineWellFormed);
}

/** `POST /v1/events`: what an agent may send. */
export const eventSchema = eventShape(true);
/** An event the edge already accepted (forwarding, replay): the door's rules before 2026-12-06. */
export const acceptedEventSchema = eventShape(false);

export type AgentEvent = z.infer<typeof eventSchema>;

/** An event as the scorer sees it: time as epoch ms. */
export interface ScoredInput {
  id: string;
  ts: number;
  type: AgentEvent["type"];
  action: string;
  resource?: string;
  amount?: number;
  currency?: string;
  outcome: AgentEvent["outcome"];
  latencyMs?: number;
  /**
   * Read volume, from `attributes.records` (or `rows`) and `attributes.bytes`, or any key named as
   * a count of records/rows or of bytes (`rows_returned`, `bytes_read`, `size_kb`; volume-keys.ts),
   * numbers or decimal strings: exfiltration is volume, not event count.
   */
  records?: number;
  bytes?: number;
}

/** The largest read volume the scorer takes from an attribute (amount's bound): sums of at most 1e15 stay finite. */
export const MAX_VOLUME = 1e15;

/** A plain decimal number written as a string ("1234", "12.5", "1e6"): some clients send every attribute as text. */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A finite non-negative number from an attribute value (a number or a decimal string), times
 * `scale`, at most MAX_VOLUME, or undefined. Attributes are free-form, so the schema does not bound
 * them: two reads of 1.79e308 records summed to Infinity in the hour's volume, which JSON stores as
 * null, so scores depended on when the state was reloaded.
 */
function volumeValue(v: unknown, scale = 1): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && v.length <= 32 && DECIMAL.test(v) ? Number(v) : Number.NaN;
  const x = n * scale;
  return Number.isFinite(x) && x >= 0 ? Math.min(x, MAX_VOLUME) : undefined;
}

/**
 * Read volume in one unit: the contract's own key (`records`, else `rows`; `bytes`) when it holds a
 * number, else the largest value among the other keys that name that unit (volume-keys.ts:
 * `rows_returned`, `recordCount`, `bytes_read`, `size_kb` in KiB…). The largest, not the first, so
 * the result does not depend on the order a client wrote its keys in.
 */
/** Attribute keys of one event looked at for read volume under other names (the contract's own keys are always read). */
export const VOLUME_KEYS_READ = 32;

function volume(attrs: Record<string, unknown> | undefined, unit: VolumeUnitName, own: readonly string[]): number | undefined {
  if (!attrs) return undefined;
  for (const k of own) {
    const v = Object.hasOwn(attrs, k) ? volumeValue(attrs[k]) : undefined;
    if (v !== undefined) return v;
  }
  let best: number | undefined;
  let seen = 0;
  for (const k in attrs) {
    // The agent chooses the keys (8 KiB of attributes is hundreds of them): only the first few are
    // read, so what it pays the edge per event does not grow with how many it writes.
    if (++seen > VOLUME_KEYS_READ) break;
    if (!Object.hasOwn(attrs, k)) continue;
    const key = own.includes(k) ? undefined : volumeKeyOf(k);
    if (key?.unit !== unit) continue;
    const v = volumeValue(attrs[k], key.scale);
    if (v !== undefined && (best === undefined || v > best)) best = v;
  }
  return best;
}

export function toScoredInput(e: AgentEvent): ScoredInput {
  return {
    id: e.event_id, ts: Date.parse(e.timestamp), type: e.type, action: e.action, resource: e.resource,
    amount: e.amount, currency: e.currency, outcome: e.outcome, latencyMs: e.latency_ms,
    records: volume(e.attributes, "records", ["records", "rows"]), bytes: volume(e.attributes, "bytes", ["bytes"]),
  };
}
