/**
 * Check e, "certificate valid at the time of each event", one entry at a time: every
 * event.ingested entry names the serial of the certificate the agent presented and the time the
 * edge received the event (`received_at`, hashed into the entry). That receipt time must fall
 * inside the X.509 certificate's [notBefore, notAfter] and before its revocation, or the check
 * fails. The event's own `timestamp` is the agent's claim: the edge accepts back-filled events up
 * to 30 days old, so a claim outside the validity window is a warning naming the events, not a
 * failure. Entries without `received_at` fall back to the claimed time. Revocation times come from
 * the certificate.revoked entries (hashed into the signed tree), never from the unsigned
 * `certificates[].revoked_at` metadata, which anyone holding the file could edit.
 * Streaming: an event is checked against the revocations logged before it; for a revocation logged
 * after events (an edge clock ahead of the origin's), the latest receipt time seen per serial
 * tells whether any earlier event falls after it, so the verdict matches a whole-bundle check.
 * A supersession ends a certificate's validity like a revocation (the CRL lists it with reason
 * superseded and the edge refuses it): the `superseded_at` of its certificate.renewed entry (the
 * end of the renewal's overlap), the time of a later renewal that cuts that overlap short, or a
 * certificate.superseded entry. Until 2026-12-06 only revocations counted, so events an
 * out-of-date edge took under a superseded serial passed as "received while valid".
 */
import { normalizeSerial, type x509 } from "../x509.ts";
import type { ParsedEntry } from "./entries.ts";
import { FailureList } from "./failures.ts";
import { isRecord } from "./shape.ts";
import { parseTime } from "./time.ts";
import type { Bundle, CheckResult } from "./types.ts";
import { fmt } from "./fmt.ts";


export class ValidityTracker {
  readonly #f = new FailureList();
  readonly #revoked = new Map<string, number>();
  /** Earliest proven end of each renewed certificate's overlap (its supersession). */
  readonly #supersededAt = new Map<string, number>();
  /** Renewed certificates not (yet) superseded by an entry of their own: a later renewal ends their overlap. */
  readonly #inOverlap = new Map<string, string>();
  /** Per serial: the latest receipt time of a passing event so far, and which event. */
  readonly #latest = new Map<string, { at: number; index: number; eventId: string | null }>();
  /** Serial as written → its certificate's key and validity (null: not in the bundle). */
  readonly #bySerial = new Map<string, { key: string; notBefore: number; notAfter: number } | null>();
  readonly #backfilled: string[] = [];
  /** Events logged after their certificate's revocation entry but received before the revocation. */
  readonly #lateLogged: string[] = [];
  #lateLoggedCount = 0;
  #lateLoggedMaxMs = 0;
  /** Serial as written → normalized: every event names one, and 100k regex replaces add up. */
  readonly #serials = new Map<string, string>();
  #backfilledCount = 0;
  events = 0;

  constructor(private readonly b: Pick<Bundle, "certificates">, private readonly certs: Map<string, x509.X509Certificate>) {}

  get valid(): number {
    return this.events - this.#f.total;
  }

  add(e: ParsedEntry): void {
    if (e.kind === "certificate.revoked") this.#revocation(e);
    if (e.kind === "certificate.renewed" || e.kind === "certificate.superseded") this.#supersession(e);
    if (e.kind !== "event.ingested") return;
    this.events++;
    if (!this.#covered(e)) this.#check(e);
  }

  /**
   * The common case, decided without building a reason: the event has a valid claimed time, names
   * a certificate of the bundle, and was received (else claimed) inside its validity and before
   * any proven revocation. Then it does what #check does for an event without reasons and returns
   * true; otherwise false, and #check decides and words the failure. (100k events: this is per
   * event, #check only per failure.)
   */
  #covered(e: ParsedEntry): boolean {
    const data = e.data;
    const event = data.event;
    if (!isRecord(event) || typeof event.timestamp !== "string" || typeof data.serial_number !== "string") return false;
    const claimed = parseTime(event.timestamp);
    if (Number.isNaN(claimed)) return false;
    const rcv = typeof data.received_at === "string" ? parseTime(data.received_at) : NaN;
    const at = Number.isNaN(rcv) ? claimed : rcv;
    const cert = this.#certOf(data.serial_number);
    if (!cert) return false;
    const rev = this.#revoked.get(cert.key);
    const sup = this.#supersededAt.get(cert.key);
    const outside = (t: number) => t < cert.notBefore || t > cert.notAfter || (rev !== undefined && t >= rev) || (sup !== undefined && t >= sup);
    if (outside(at)) return false;
    this.#passed(cert.key, at, e.index, typeof event.event_id === "string" ? event.event_id : null, outside(claimed));
    if (rev !== undefined) this.#loggedLate(e, rev);
    return true;
  }

  /**
   * An event its certificate covered when received: the latest such receipt per certificate (a
   * later revocation entry checks it), and a claimed time outside the validity noted as back-filled.
   */
  #passed(key: string, at: number, index: number, eventId: string | null, claimedOutside: boolean): void {
    const latest = this.#latest.get(key);
    if (!latest) this.#latest.set(key, { at, index, eventId });
    else if (at > latest.at) {
      latest.at = at;
      latest.index = index;
      latest.eventId = eventId;
    }
    if (claimedOutside) {
      this.#backfilledCount++;
      if (this.#backfilled.length < 5) this.#backfilled.push(`${index}${eventId === null ? "" : ` ${eventId}`}`);
    }
  }

  /** The bundle's certificate a serial (as written) names, with its validity in ms; cached. */
  #certOf(serial: string): { key: string; notBefore: number; notAfter: number } | undefined {
    let c = this.#bySerial.get(serial);
    if (c === undefined) {
      const key = this.#normalize(serial);
      const cert = this.certs.get(key);
      c = cert ? { key, notBefore: cert.notBefore.getTime(), notAfter: cert.notAfter.getTime() } : null;
      if (this.#bySerial.size < 10_000) this.#bySerial.set(serial, c);
    }
    return c ?? undefined;
  }

  /** Every event #covered does not settle: the reasons it fails, worded (or, for none, what #covered does). */
  #check(e: ParsedEntry): void {
    const reasons: string[] = [];
    const event = isRecord(e.data.event) ? e.data.event : {};
    const id = typeof event.event_id === "string" ? ` ${event.event_id}` : "";
    const ts = typeof event.timestamp === "string" ? event.timestamp : null;
    const claimed = ts === null ? NaN : Date.parse(ts);
    const rcv = typeof e.data.received_at === "string" && !Number.isNaN(Date.parse(e.data.received_at)) ? e.data.received_at : null;
    const at = rcv === null ? claimed : Date.parse(rcv);
    const when = rcv === null ? `at ${ts}` : `at ${ts}, received ${rcv},`;
    const serial = typeof e.data.serial_number === "string" ? e.data.serial_number : null;
    const key = serial === null ? null : this.#normalize(serial);
    const cert = key === null ? undefined : this.certs.get(key);
    if (Number.isNaN(claimed)) reasons.push(`event${id} has no valid timestamp`);
    if (serial === null) reasons.push(`event${id} names no certificate serial`);
    else if (!cert) reasons.push(`certificate ${serial} is not in the bundle`);
    if (cert && key !== null && !Number.isNaN(at)) {
      const rev = this.#revoked.get(key);
      const sup = this.#supersededAt.get(key);
      /** Why the certificate did not cover time `t` (empty when it did); `when` names the time. */
      const uncovered = (t: number, when: string): string[] => [
        ...(t < cert.notBefore.getTime() ? [`event${id} ${when} is before certificate ${serial} became valid (${cert.notBefore.toISOString()})`] : []),
        ...(t > cert.notAfter.getTime() ? [`event${id} ${when} is after certificate ${serial} expired (${cert.notAfter.toISOString()})`] : []),
        ...(rev !== undefined && t >= rev ? [`event${id} ${when} is after certificate ${serial} was revoked (${new Date(rev).toISOString()})`] : []),
        ...(sup !== undefined && t >= sup && (rev === undefined || sup < rev)
          ? [`event${id} ${when} is after certificate ${serial} was superseded by its renewal (${new Date(sup).toISOString()})`]
          : []),
      ];
      reasons.push(...uncovered(at, when));
      if (!reasons.length) {
        const eventId = typeof event.event_id === "string" ? event.event_id : null;
        this.#passed(key, at, e.index, eventId, !Number.isNaN(claimed) && uncovered(claimed, "").length > 0);
        if (rev !== undefined) this.#loggedLate(e, rev);
      }
    }
    if (reasons.length) this.#f.add({ subject: `entry ${e.index} (${e.kind})`, index: e.index, kind: e.kind, reasons });
  }

  /**
   * An event received before its certificate's revocation but logged after the revocation entry.
   * An edge that forwarded it late (the origin was down, a backlog) does this; so would an entry
   * someone with write access to the log's database appended afterwards with an earlier receipt
   * time. The log cannot tell the two apart, so the verdict stands and the report says how late.
   */
  #loggedLate(e: ParsedEntry, revokedAt: number): void {
    this.#lateLoggedCount++;
    const loggedAt = typeof e.entry.at === "string" ? Date.parse(e.entry.at) : NaN;
    if (!Number.isNaN(loggedAt)) this.#lateLoggedMaxMs = Math.max(this.#lateLoggedMaxMs, loggedAt - revokedAt);
    if (this.#lateLogged.length < 5) this.#lateLogged.push(`entry ${e.index}`);
  }

  #normalize(serial: string): string {
    let k = this.#serials.get(serial);
    if (k === undefined) {
      k = normalizeSerial(serial);
      if (this.#serials.size < 10_000) this.#serials.set(serial, k);
    }
    return k;
  }

  /** Earliest proven revocation per serial (a second revocation cannot un-revoke). */
  #revocation(e: ParsedEntry): void {
    const serial = e.data.serial_number;
    const at = typeof e.data.revoked_at === "string" ? Date.parse(e.data.revoked_at) : NaN;
    if (typeof serial !== "string" || Number.isNaN(at)) return;
    this.#ends(this.#revoked, normalizeSerial(serial), at, `certificate ${serial} was revoked`, e.index);
  }

  /**
   * A renewal (certificate.renewed names the renewed certificate and when its overlap ends) or the
   * supersession itself (certificate.superseded). A renewal also ends the overlap of any earlier
   * renewed certificate still in one, at the renewal's own time (renew.ts).
   */
  #supersession(e: ParsedEntry): void {
    const serial = e.data.serial_number;
    if (typeof serial !== "string") return;
    const key = normalizeSerial(serial);
    const entryAt = typeof e.entry.at === "string" ? Date.parse(e.entry.at) : NaN;
    const stated = typeof e.data.superseded_at === "string" ? Date.parse(e.data.superseded_at) : NaN;
    if (e.kind === "certificate.renewed") {
      if (!Number.isNaN(entryAt)) for (const [other, otherSerial] of this.#inOverlap) if (other !== key) this.#superseded(other, entryAt, otherSerial, e.index);
      this.#inOverlap.set(key, serial);
      if (!Number.isNaN(stated)) this.#superseded(key, stated, serial, e.index);
      return;
    }
    this.#inOverlap.delete(key);
    const at = Number.isNaN(stated) ? entryAt : stated;
    if (!Number.isNaN(at)) this.#superseded(key, at, serial, e.index);
  }

  #superseded(key: string, at: number, serial: string, index: number): void {
    this.#ends(this.#supersededAt, key, at, `certificate ${serial} was superseded by its renewal`, index);
  }

  /**
   * Certificate `key` stops speaking for the agent at `at` (revoked or superseded: `ends` is which;
   * the earliest such time counts). Events logged before the entry saying so but received after
   * that time fail now.
   */
  #ends(ends: Map<string, number>, key: string, at: number, what: string, index: number): void {
    ends.set(key, Math.min(at, ends.get(key) ?? Infinity));
    const latest = this.#latest.get(key);
    if (latest && latest.at >= at) {
      this.#f.add({ subject: `entry ${latest.index} (event.ingested)`, index: latest.index, kind: "event.ingested",
        reasons: [`event${latest.eventId === null ? "" : ` ${latest.eventId}`} was received after ${what} (${new Date(at).toISOString()}, entry ${index}); earlier entries of that certificate may be too`] });
      this.#latest.delete(key);
    }
  }

  result(): CheckResult {
    const notes: string[] = [];
    if (this.#backfilledCount) {
      const n = this.#backfilledCount;
      const shown = this.#backfilled.map((x) => `entry ${x}`).join(", ");
      notes.push(`warning: ${fmt(n)} event${n === 1 ? " claims" : "s claim"} a timestamp outside their certificate's validity but ${n === 1 ? "was" : "were"} received while it was valid (back-filled history or clock skew): ${shown}${n > 5 ? ", …" : ""}`);
    }
    if (this.#lateLoggedCount) {
      const n = this.#lateLoggedCount;
      const late = this.#lateLoggedMaxMs > 0 ? `, logged up to ${duration(this.#lateLoggedMaxMs)} after the revocation` : "";
      notes.push(
        `warning: ${fmt(n)} event${n === 1 ? " was" : "s were"} logged after ${n === 1 ? "its" : "their"} certificate's revocation entry but received before the revocation${late}: ` +
          `${this.#lateLogged.join(", ")}${n > 5 ? ", …" : ""}. An edge that forwarded them late does this; so would entries appended afterwards by someone able to write the log's database. ` +
          "Check them against a tree head you kept from before (--since-tree-head) or the tree heads in the WORM archive",
      );
    }
    for (const c of this.b.certificates) {
      if (c.revoked_at !== null && !this.#revoked.has(normalizeSerial(c.serial_number))) {
        notes.push(`warning: certificate ${c.serial_number} is listed as revoked at ${c.revoked_at}, but the bundle has no certificate.revoked entry proving it; it was treated as not revoked`);
      }
    }
    const bad = this.#f.total;
    const revocations = this.#revoked.size;
    const summary = bad
      ? `${fmt(bad)} of ${fmt(this.events)} events happened when their certificate was not valid`
      : `${fmt(this.events)} of ${fmt(this.events)} events received while their certificate was valid and before any revocation (${fmt(revocations)} revocation${revocations === 1 ? "" : "s"} proven in the log)`;
    return { id: "validity", title: "certificate valid at the time of each event", status: bad ? "fail" : "pass", summary, failures: this.#f.list, notes: [...notes, ...this.#f.notes()] };
  }
}

/** A human duration: seconds under two minutes, minutes under two hours, else hours. */
function duration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
