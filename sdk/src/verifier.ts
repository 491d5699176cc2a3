import { TtlCache } from "./cache.ts";
import { fetchVerification, type EdgeAnswer } from "./edge-client.ts";
import { evaluate } from "./evaluate.ts";
import { normaliseSerial } from "./serial.ts";
import type { FetchLike, VerifyChecks, VerifyResult } from "./types.ts";
import { edgeBaseUrl, numberOption } from "./options.ts";
import { boundedFetch } from "./default-fetch.ts";

export interface VerifierOptions {
  /** Base URL of the Kakunin edge, e.g. `https://verify.example.com`. */
  edgeUrl: string;
  /** How long an `active` answer is reused (ms). Default 2000, the edge's own `max-age=2`. */
  cacheTtlMs?: number;
  /** How long a final answer (`revoked`, `expired`) is reused (ms). Default 300 000, the edge's `max-age=300`. */
  finalCacheTtlMs?: number;
  /** How long "no such serial" is remembered (ms). Default 1000: a new certificate appears within a second. */
  unknownCacheTtlMs?: number;
  /** Cap on cached serials; the least recently used is dropped first. Default 10 000. */
  maxEntries?: number;
  /** Default true: when the edge cannot answer, the result is not valid. False lets it through as `degraded`. */
  failClosed?: boolean;
  /** Per-request deadline for the edge (ms). Default 2000. */
  timeoutMs?: number;
  /** Replaces global `fetch` (a service binding, `SELF.fetch` in tests, an instrumented fetch...). */
  fetch?: FetchLike;
  /**
   * Default true: ask the edge for the certificate's PEM (`?include=certificate_pem`), which proof
   * of possession needs. False saves ~1.5 KB per answer when no signature is checked.
   */
  includeCertificate?: boolean;
  /** Clock in ms since the epoch; for tests. */
  now?: () => number;
}

export interface Verifier {
  /** Verifies one serial; never throws, never makes more than one request per serial at a time. */
  verify(serial: string, checks?: VerifyChecks): Promise<VerifyResult>;
  /** Forgets cached answers: one serial, or all. */
  invalidate(serial?: string): void;
  readonly failClosed: boolean;
}

type Cached = Extract<EdgeAnswer, { kind: "found" } | { kind: "unknown" }>;

export function createVerifier(options: VerifierOptions): Verifier {
  const edgeUrl = edgeBaseUrl(options.edgeUrl);
  const now = options.now ?? Date.now;
  const ttl = {
    active: numberOption("cacheTtlMs", options.cacheTtlMs, 2000),
    final: numberOption("finalCacheTtlMs", options.finalCacheTtlMs, 300_000),
    unknown: numberOption("unknownCacheTtlMs", options.unknownCacheTtlMs, 1000),
  };
  const timeoutMs = numberOption("timeoutMs", options.timeoutMs, 2000, { min: 1 });
  const failClosed = options.failClosed ?? true;
  const includeCertificate = options.includeCertificate ?? true;
  const fetcher = boundedFetch(options.fetch);
  const cache = new TtlCache<Cached>(numberOption("maxEntries", options.maxEntries, 10_000, { min: 1, integer: true }), now);
  // Bumped by invalidate(): an answer to a request sent before it is not cached (it may predate the
  // revocation the caller was told of), and later calls do not join that request.
  let generation = 0;
  // Request coalescing: concurrent lookups of one serial share the promise of the request in flight.
  const inFlight = new Map<string, Promise<EdgeAnswer>>();

  async function lookup(serial: string): Promise<{ answer: EdgeAnswer; cached: boolean }> {
    const hit = cache.get(serial);
    if (hit) return { answer: hit, cached: true };
    let pending = inFlight.get(serial);
    if (!pending) {
      const sent = generation;
      const sentAt = now();
      const request: Promise<EdgeAnswer> = fetchVerification(fetcher, edgeUrl, serial, timeoutMs, includeCertificate).then((answer) => {
        if (sent === generation) remember(serial, answer, sentAt);
        return answer;
      }).finally(() => {
        if (inFlight.get(serial) === request) inFlight.delete(serial);
      });
      pending = request;
      inFlight.set(serial, pending);
    }
    return { answer: await pending, cached: false };
  }

  /**
   * Transport failures are never cached: the next call asks again. The TTL runs from when the
   * question was sent, less the time the answer spent in an HTTP cache (`Age`): an answer that
   * took 1.5 s to arrive, or sat a second in a shared cache, is that much closer to stale.
   */
  function remember(serial: string, answer: EdgeAnswer, sentAt: number): void {
    if (answer.kind !== "found" && answer.kind !== "unknown") return;
    const lifetime = answer.kind === "unknown" ? ttl.unknown : answer.data.status === "active" ? ttl.active : ttl.final;
    cache.set(serial, answer, lifetime - (now() - sentAt) - answer.ageMs);
  }

  async function verify(raw: string, checks: VerifyChecks = {}): Promise<VerifyResult> {
    // JavaScript callers pass what their framework gives (a missing header is undefined, a repeated
    // one a string[]) and null for "no checks": refusals and defaults, never an exception.
    const serial = typeof raw === "string" ? normaliseSerial(raw) : undefined;
    if (!serial) {
      return { kind: "invalid_serial", valid: false, degraded: false, serial: String(raw), reasons: [{ code: "invalid_serial", detail: "a serial number is 1 to 40 hex digits (colons allowed)" }] };
    }
    const { answer, cached } = await lookup(serial);
    switch (answer.kind) {
      case "found": {
        const data = evaluate(answer.data, checks ?? {}, now());
        return { kind: "checked", valid: data.valid, degraded: false, serial, reasons: data.reasons, data, cached };
      }
      case "unknown":
        return { kind: "unknown_serial", valid: false, degraded: false, serial, reasons: [{ code: "unknown_serial", detail: `no certificate with serial ${serial}` }], cached };
      case "invalid":
        return { kind: "invalid_serial", valid: false, degraded: false, serial, reasons: [{ code: "invalid_serial", detail: "the edge refused the serial number" }] };
      case "unavailable": {
        const reasons = [{ code: "edge_unavailable" as const, detail: answer.cause }];
        return failClosed
          ? { kind: "edge_unavailable", valid: false, degraded: false, serial, reasons, cause: answer.cause }
          : { kind: "edge_unavailable", valid: true, degraded: true, serial, reasons, cause: answer.cause };
      }
    }
  }

  return {
    verify,
    invalidate: (serial) => {
      generation++;
      // A JavaScript caller's null (or anything not a serial) means "forget all": forgetting too
      // much costs a request, throwing from a cache call would take the gateway's handler down.
      if (typeof serial !== "string") {
        inFlight.clear();
        return cache.clear();
      }
      const s = normaliseSerial(serial);
      if (s) {
        cache.delete(s);
        inFlight.delete(s);
      }
    },
    failClosed,
  };
}
