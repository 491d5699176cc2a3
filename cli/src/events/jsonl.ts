/**
 * Reads a JSONL file of behaviour events and checks every line before anything is sent: a file
 * with a typo on line 900 must not leave 899 events posted and the rest not. Validation uses the
 * edge's own schema and time window (@kakunin/shared), so a file that passes here is accepted
 * there unless the two disagree (version or clock skew), which a 422 per batch then reports.
 */
import { eventSchema, MAX_EVENT_FUTURE_MS, MAX_EVENT_LATE_MS } from "@kakunin/shared";
import { MAX_BODY_BYTES, WRAPPER_BYTES } from "./batches.ts";

export interface EventLine {
  /** 1-based line number in the file, for every message about this event. */
  line: number;
  /** The event re-serialised compactly: exactly what goes into the batch body. */
  json: string;
  bytes: number;
  eventId?: string;
}

export interface LineError {
  line: number;
  message: string;
}

export interface ParsedFile {
  events: EventLine[];
  errors: LineError[];
}

function schemaErrors(value: unknown, now: number): string[] {
  const r = eventSchema.safeParse(value);
  if (!r.success) return r.error.issues.map((i) => `${i.path.map(String).join(".") || "(event)"}: ${i.message}`);
  const ts = Date.parse(r.data.timestamp);
  if (ts < now - MAX_EVENT_LATE_MS) return ["timestamp: older than 30 days (the edge refuses it)"];
  if (ts > now + MAX_EVENT_FUTURE_MS) return ["timestamp: more than 5 minutes in the future (the edge refuses it)"];
  return [];
}

/**
 * Every non-blank line must be a JSON object; with `validate`, also a valid event. Errors carry
 * line numbers; the caller sends nothing when there are any.
 */
export function parseJsonl(text: string, opts: { validate: boolean; now: number }): ParsedFile {
  const events: EventLine[] = [];
  const errors: LineError[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      errors.push({ line, message: `not JSON (${e instanceof Error ? e.message : String(e)})` });
      return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      errors.push({ line, message: "not a JSON object (one event per line)" });
      return;
    }
    if (opts.validate) for (const message of schemaErrors(value, opts.now)) errors.push({ line, message });
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json);
    if (bytes + WRAPPER_BYTES > MAX_BODY_BYTES) errors.push({ line, message: `the event alone (${bytes} bytes) exceeds the edge's ${MAX_BODY_BYTES}-byte request limit` });
    const id = (value as { event_id?: unknown }).event_id;
    events.push({ line, json, bytes, eventId: typeof id === "string" ? id : undefined });
  });
  return { events, errors };
}
