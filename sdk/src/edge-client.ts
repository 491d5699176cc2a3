import { fetchErrorCause, readJsonCapped } from "./edge-body.ts";
import type { BoundedFetch } from "./default-fetch.ts";
import type { EdgeVerifyData } from "./types.ts";

/**
 * What one `GET /v1/verify/:serial` told us (or failed to). `ageMs`: how long the answer had
 * already waited in an HTTP cache on the way (its `Age` header), Infinity when that header is
 * not delta-seconds (the answer's age is unknown).
 */
export type EdgeAnswer =
  | { kind: "found"; data: EdgeVerifyData; ageMs: number }
  | { kind: "unknown"; ageMs: number }
  | { kind: "invalid" }
  | { kind: "unavailable"; cause: string };

const STATUSES: ReadonlySet<string> = new Set(["active", "revoked", "superseded", "expired"]);

/**
 * One request to the edge, bounded by `timeoutMs`. Anything other than a well-formed 200, 404 or 400
 * (refused connection, timeout, 5xx, 429, a body that is not the contract) is `unavailable`: the
 * caller decides whether that fails closed or open.
 */
export async function fetchVerification(fetcher: BoundedFetch, edgeUrl: string, serial: string, timeoutMs: number, includeCertificate = true): Promise<EdgeAnswer> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The deadline is raced, not only signalled: a custom fetch may ignore the signal, and a request
  // stuck on a dead connection must not hold every coalesced caller past `timeoutMs`.
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve("timeout");
    }, timeoutMs);
  });
  const unavailable = (cause: string): EdgeAnswer => ({ kind: "unavailable", cause });
  try {
    // The edge leaves the certificate's PEM out unless asked; only proof of possession needs it.
    const url = `${edgeUrl}/v1/verify/${serial}${includeCertificate ? "?include=certificate_pem" : ""}`;
    // Redirects are not followed: an answer from a host the gateway was not configured with (or a
    // downgrade to plain http) is not the edge's, and the edge never redirects a verify.
    const pending = fetcher(new Request(url, { headers: { accept: "application/json" }, signal: controller.signal, redirect: "manual" }), controller.signal);
    pending.catch(() => undefined);
    const res = await Promise.race([pending, deadline]);
    if (res === "timeout") return unavailable(timedOut(timeoutMs));
    if (res.status === 404 || res.status === 400) {
      // A verdict only when the edge said it (its problem type): a CDN's or a proxy's 404 page, or
      // a wrong edgeUrl path, is an outage, not "no such agent" (which failing open would refuse).
      const expected = res.status === 404 ? "not-found" : "invalid-serial";
      const problem = await Promise.race([readJsonCapped(res).catch((): undefined => undefined), deadline]);
      if (problem === "timeout") return unavailable(timedOut(timeoutMs));
      if (!(problem?.ok && isObject(problem.value) && problem.value.type === `urn:kakunin:problem:${expected}`)) {
        return unavailable(`edge answered HTTP ${res.status} without the ${expected} problem: not the Kakunin edge (check edgeUrl and what sits in front of it)`);
      }
      return res.status === 404 ? { kind: "unknown", ageMs: ageOf(res) } : { kind: "invalid" };
    }
    if (res.status >= 300 && res.status < 400) return discard(res, unavailable(`edge answered HTTP ${res.status} (a redirect, not followed; to ${res.headers.get("location") ?? "nowhere"}): set edgeUrl to the edge itself`));
    if (res.status !== 200) return discard(res, unavailable(`edge answered HTTP ${res.status}`));
    const body = await Promise.race([readJsonCapped(res).catch((): undefined => undefined), deadline]);
    if (body === "timeout") return unavailable(timedOut(timeoutMs));
    if (body?.ok === false) return unavailable(body.cause);
    const data = asVerifyData(body?.value, serial, includeCertificate);
    return data ? { kind: "found", data, ageMs: ageOf(res) } : unavailable("edge answer does not match the verify contract");
  } catch (e) {
    return unavailable(controller.signal.aborted ? timedOut(timeoutMs) : `edge unreachable: ${fetchErrorCause(e)}`);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** RFC 9111 §5.1: `Age` is delta-seconds; absent means the answer came straight from the edge. */
function ageOf(res: Response): number {
  const age = res.headers.get("age");
  if (age === null) return 0;
  return /^\d{1,10}$/.test(age.trim()) ? Number(age.trim()) * 1000 : Number.POSITIVE_INFINITY;
}

function timedOut(ms: number): string {
  return `edge did not answer within ${ms} ms`;
}

/** Unread bodies hold connections open (and Workers warn about them). */
async function discard<T>(res: Response, answer: T): Promise<T> {
  try {
    await res.body?.cancel();
  } catch {
    /* already closed: nothing to release */
  }
  return answer;
}

/** Checks the fields the SDK relies on; the answer must also be about the serial we asked for. */
function asVerifyData(body: unknown, serial: string, includeCertificate: boolean): EdgeVerifyData | undefined {
  if (!isObject(body) || !isObject(body.data)) return undefined;
  const d = body.data;
  const ok =
    d.serial_number === serial &&
    typeof d.status === "string" && STATUSES.has(d.status) &&
    typeof d.valid === "boolean" &&
    Array.isArray(d.reasons) && d.reasons.every((r) => isObject(r) && typeof r.code === "string" && typeof r.detail === "string") &&
    Array.isArray(d.scopes) && d.scopes.every((s) => typeof s === "string") &&
    isObject(d.model) && typeof d.model.hash === "string" &&
    isInstant(d.not_before) && isInstant(d.not_after) &&
    // The SDK re-derives the status from these instants; one it cannot read would never arrive.
    (d.superseded_at == null || isInstant(d.superseded_at)) && (d.renew_after === undefined || isInstant(d.renew_after)) &&
    // The SDK recomputes validity from the status and the reasons, so an active certificate
    // refused without a reason (the edge gives every refusal one) would otherwise turn into a pass.
    (d.valid || d.status !== "active" || d.reasons.length > 0) &&
    typeof d.agent_id === "string" && (!includeCertificate || typeof d.certificate_pem === "string");
  // The checks above cover every field the SDK reads; the rest is passed through as the edge sent it.
  return ok ? (d as unknown as EdgeVerifyData) : undefined;
}

/** An RFC 3339 instant as the edge writes it: one `Date.parse` reads, so no NaN comparison passes. */
function isInstant(v: unknown): v is string {
  return typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v) && Number.isFinite(Date.parse(v));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
