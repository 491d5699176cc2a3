/**
 * Check e, "certificate valid at the time of each event": every event.ingested entry names the
 * serial of the certificate the agent presented and the time the edge received the event
 * (`received_at`, hashed into the entry). That receipt is what the certificate vouches for: the
 * agent held a credential bound to that certificate at that moment. So the receipt time must fall
 * inside the X.509 certificate's [notBefore, notAfter] and before its revocation, or the check fails.
 * The event's own `timestamp` is the agent's claim: the edge accepts back-filled events up to
 * 30 days old, so a claim outside the validity window (history replayed after enrolment, clock
 * skew) is reported as a warning naming the events, not as a failure. Entries without
 * `received_at` fall back to the claimed time. The revocation time comes from the
 * certificate.revoked entries (hashed into the signed tree), never from the unsigned
 * `certificates[].revoked_at` metadata, which anyone holding the file could edit.
 */
import { normalizeSerial, type x509 } from "../x509.ts";
import type { ParsedEntry } from "./entries.ts";
import { isRecord } from "./shape.ts";
import type { Bundle, CheckResult, Failure } from "./types.ts";

const fmt = (n: number) => n.toLocaleString("en-US");

export interface ValidityOutcome {
  result: CheckResult;
  events: number;
  valid: number;
}

/** Earliest proven revocation per serial (a second revocation cannot un-revoke). */
function revocations(entries: ParsedEntry[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries) {
    if (e.kind !== "certificate.revoked") continue;
    const serial = e.data.serial_number;
    const at = typeof e.data.revoked_at === "string" ? Date.parse(e.data.revoked_at) : NaN;
    if (typeof serial !== "string" || Number.isNaN(at)) continue;
    const key = normalizeSerial(serial);
    out.set(key, Math.min(at, out.get(key) ?? Infinity));
  }
  return out;
}

export function checkValidity(b: Bundle, entries: ParsedEntry[], certs: Map<string, x509.X509Certificate>): ValidityOutcome {
  const revoked = revocations(entries);
  const failures: Failure[] = [];
  const notes: string[] = [];
  const backfilled: string[] = [];
  let events = 0;
  for (const e of entries) {
    if (e.kind !== "event.ingested") continue;
    events++;
    const reasons: string[] = [];
    const event = isRecord(e.data.event) ? e.data.event : {};
    const id = typeof event.event_id === "string" ? ` ${event.event_id}` : "";
    const ts = typeof event.timestamp === "string" ? event.timestamp : null;
    const claimed = ts === null ? NaN : Date.parse(ts);
    const rcv = typeof e.data.received_at === "string" && !Number.isNaN(Date.parse(e.data.received_at)) ? e.data.received_at : null;
    const at = rcv === null ? claimed : Date.parse(rcv);
    const when = rcv === null ? `at ${ts}` : `at ${ts}, received ${rcv},`;
    const serial = typeof e.data.serial_number === "string" ? e.data.serial_number : null;
    const cert = serial === null ? undefined : certs.get(normalizeSerial(serial));
    if (Number.isNaN(claimed)) reasons.push(`event${id} has no valid timestamp`);
    if (serial === null) reasons.push(`event${id} names no certificate serial`);
    else if (!cert) reasons.push(`certificate ${serial} is not in the bundle`);
    if (cert && !Number.isNaN(at)) {
      const rev = revoked.get(normalizeSerial(serial!));
      /** Why the certificate did not cover time `t` (empty when it did); `when` names the time. */
      const uncovered = (t: number, when: string): string[] => [
        ...(t < cert.notBefore.getTime() ? [`event${id} ${when} is before certificate ${serial} became valid (${cert.notBefore.toISOString()})`] : []),
        ...(t > cert.notAfter.getTime() ? [`event${id} ${when} is after certificate ${serial} expired (${cert.notAfter.toISOString()})`] : []),
        ...(rev !== undefined && t >= rev ? [`event${id} ${when} is after certificate ${serial} was revoked (${new Date(rev).toISOString()})`] : []),
      ];
      reasons.push(...uncovered(at, when));
      if (!reasons.length && !Number.isNaN(claimed) && uncovered(claimed, "").length) backfilled.push(`${e.index}${id}`);
    }
    if (reasons.length) failures.push({ subject: `entry ${e.index} (${e.kind})`, index: e.index, kind: e.kind, reasons });
  }
  if (backfilled.length) {
    const shown = backfilled.slice(0, 5).map((x) => `entry ${x}`).join(", ");
    notes.push(`warning: ${fmt(backfilled.length)} event${backfilled.length === 1 ? " claims" : "s claim"} a timestamp outside their certificate's validity but ${backfilled.length === 1 ? "was" : "were"} received while it was valid (back-filled history or clock skew): ${shown}${backfilled.length > 5 ? ", …" : ""}`);
  }
  for (const c of b.certificates) {
    if (c.revoked_at !== null && !revoked.has(normalizeSerial(c.serial_number))) {
      notes.push(`warning: certificate ${c.serial_number} is listed as revoked at ${c.revoked_at}, but the bundle has no certificate.revoked entry proving it; it was treated as not revoked`);
    }
  }
  const valid = events - failures.length;
  const summary = failures.length
    ? `${fmt(failures.length)} of ${fmt(events)} events happened when their certificate was not valid`
    : `${fmt(events)} of ${fmt(events)} events received while their certificate was valid and before any revocation (${fmt(revoked.size)} revocation${revoked.size === 1 ? "" : "s"} proven in the log)`;
  return {
    result: { id: "validity", title: "certificate valid at the time of each event", status: failures.length ? "fail" : "pass", summary, failures, notes },
    events,
    valid,
  };
}
