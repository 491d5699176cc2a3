import {
  eventSchema,
  MAX_ATTRIBUTES_BYTES,
  MAX_EVENT_FUTURE_MS,
  MAX_EVENT_LATE_MS,
  MAX_EVENTS_PER_BATCH,
  utf8Length,
  type AgentEvent,
  type FieldError,
} from "@kakunin/shared";

/**
 * Validates a whole batch: one event or `{events:[...]}`. Every invalid event is reported with its
 * index and field (`events.3.amount`); a batch with any invalid event is refused whole, so nothing
 * is half-accepted. Over a size limit of the contract (more than 1000 events, more than 8 KiB of
 * `attributes` in an event) is 413, as a body over 1 MiB is (design "Conventions": bodies over the
 * limit → 413), with the same `errors` naming where; it is checked before the schema, as the byte
 * limit is, so an oversize batch is told that first.
 */
export function parseEvents(body: unknown, now: number): { ok: true; events: AgentEvent[] } | { ok: false; errors: FieldError[]; status: 413 | 422 } {
  const isBatch = typeof body === "object" && body !== null && !Array.isArray(body) && "events" in body;
  if (!isBatch && (typeof body !== "object" || body === null || Array.isArray(body))) {
    return { ok: false, status: 422, errors: [{ path: "(body)", message: "expected one event object or {events: [...]}" }] };
  }
  let items: unknown[];
  let prefix: (i: number) => string;
  if (isBatch) {
    const raw = (body as { events: unknown }).events;
    const extra = Object.keys(body as object).filter((k) => k !== "events");
    if (!Array.isArray(raw)) return { ok: false, status: 422, errors: [{ path: "events", message: "must be an array" }] };
    if (extra.length) return { ok: false, status: 422, errors: extra.map((k) => ({ path: k, message: "unknown field" })) };
    if (raw.length === 0) return { ok: false, status: 422, errors: [{ path: "events", message: "must contain at least one event" }] };
    if (raw.length > MAX_EVENTS_PER_BATCH)
      return { ok: false, status: 413, errors: [{ path: "events", message: `at most ${MAX_EVENTS_PER_BATCH} events per batch` }] };
    items = raw;
    prefix = (i) => `events.${i}`;
  } else {
    items = [body];
    prefix = () => "";
  }
  const oversize = items.flatMap((item, i) =>
    attributesBytes(item) > MAX_ATTRIBUTES_BYTES
      ? [{ path: [prefix(i), "attributes"].filter(Boolean).join("."), message: `attributes exceed ${MAX_ATTRIBUTES_BYTES} bytes` }]
      : [],
  );
  if (oversize.length) return { ok: false, status: 413, errors: oversize.slice(0, 200) };
  const errors: FieldError[] = [];
  const events: AgentEvent[] = [];
  items.forEach((item, i) => {
    const r = eventSchema.safeParse(upperTimestamp(item));
    const at = (p: string) => [prefix(i), p].filter(Boolean).join(".");
    if (!r.success) {
      for (const issue of r.error.issues) errors.push({ path: at(issue.path.map(String).join(".")) || prefix(i) || "(body)", message: issue.message });
      return;
    }
    const ts = Date.parse(r.data.timestamp);
    if (ts < now - MAX_EVENT_LATE_MS) errors.push({ path: at("timestamp"), message: "older than 30 days" });
    else if (ts > now + MAX_EVENT_FUTURE_MS) errors.push({ path: at("timestamp"), message: "more than 5 minutes in the future" });
    else events.push(r.data);
  });
  if (errors.length) return { ok: false, status: 422, errors: errors.slice(0, 200) };
  return { ok: true, events };
}

/** UTF-8 bytes of an event's `attributes` as JSON (0 when there are none or the item is not an object). */
function attributesBytes(item: unknown): number {
  if (typeof item !== "object" || item === null || !("attributes" in item)) return 0;
  const a = (item as { attributes: unknown }).attributes;
  return a === undefined ? 0 : utf8Length(JSON.stringify(a));
}

/**
 * RFC 3339 §5.6 allows `t` and `z` in lower case; zod's datetime does not. The only letters a
 * timestamp can hold are those two, so upper-casing it is the same instant written canonically.
 */
function upperTimestamp(item: unknown): unknown {
  if (typeof item !== "object" || item === null || !("timestamp" in item)) return item;
  const t = (item as { timestamp: unknown }).timestamp;
  return typeof t === "string" ? { ...item, timestamp: t.toUpperCase() } : item;
}
