import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { resolvePublic, type Resolver, systemResolver } from "./address-guard.ts";

export interface SendOutcome {
  status: number | null;
  error: string | null;
  durationMs: number;
  /** The receiver's Retry-After header, as sent (the dispatcher reads it: retry-after.ts). */
  retryAfter?: string | null;
}

/**
 * One POST of a webhook body. The connection goes to the address `resolvePublic` approved (a custom
 * `lookup`), so the check and the connection see the same DNS answer (no rebinding window).
 * Redirects are not followed; a complete 2xx is success; a timeout, a socket error or a 2xx whose body
 * the connection cut short (error set) is a failure like a 5xx.
 */
export async function sendWebhook(
  url: URL,
  headers: Record<string, string>,
  body: string,
  o: { timeoutMs: number; allowPrivate: boolean; resolve?: Resolver; now?: () => number },
): Promise<SendOutcome> {
  const now = o.now ?? Date.now;
  const started = now();
  // The deadline covers the whole exchange, DNS included: a resolver that does not answer would
  // otherwise hold the send past its lease, and another origin would send it again.
  let dnsTimer: ReturnType<typeof setTimeout> | undefined;
  const approved = await Promise.race([
    resolvePublic(url.hostname, o.allowPrivate, o.resolve ?? systemResolver),
    new Promise<"timeout">((r) => {
      dnsTimer = setTimeout(() => r("timeout"), o.timeoutMs);
    }),
  ]).finally(() => clearTimeout(dnsTimer));
  if (approved === "timeout") return { status: null, error: `timed out after ${o.timeoutMs} ms resolving ${url.hostname}`, durationMs: now() - started };
  if (!approved.ok) return { status: null, error: `refused: ${approved.error}`, durationMs: now() - started };
  const remaining = Math.max(1, o.timeoutMs - (now() - started));
  const pinned: LookupFunction = (_host, opts, cb) => {
    if (opts.all) cb(null, [{ address: approved.value.address, family: approved.value.family }]);
    else cb(null, approved.value.address, approved.value.family);
  };
  const options: RequestOptions = {
    method: "POST",
    headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
    lookup: pinned,
    timeout: remaining,
  };
  return new Promise<SendOutcome>((resolve) => {
    // Settles once, whichever of the response, the request or the deadline ends the exchange first.
    // The deadline settles it by itself: some endings emit nothing listened for below, and a send
    // that never settles holds a dispatcher slot for good (and stop() waits for it).
    let settled = false;
    let responded = false;
    let deadline: ReturnType<typeof setTimeout> | undefined;
    let retryAfter: string | null = null;
    const done = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ status, error, durationMs: now() - started, retryAfter });
    };
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, options, (res) => {
      responded = true;
      const ra = res.headers["retry-after"];
      retryAfter = typeof ra === "string" ? ra : null;
      // Drain (bounded) so the socket is released; the body is not needed. A body over 64 KiB is
      // cut off by us and the receiver's status stands (`destroy()` without an error emits neither
      // 'end' nor 'error', only 'close'); one still arriving at the deadline is a timeout like any other.
      let read = 0;
      let cut = false;
      res.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > 64 * 1024) {
          cut = true;
          res.destroy();
        }
      });
      res.on("end", () => done(res.statusCode ?? null, null));
      // The receiver's connection ending before its body did (fewer bytes than its content-length,
      // no last chunk) is a receiver that failed while answering, not an acknowledgement: it may
      // have crashed before processing the event. The attempt fails and is retried (receivers
      // dedupe on webhook-id), as a reset before the status line already was.
      const truncated = () =>
        done(res.statusCode ?? null, cut ? null : `response truncated: the connection closed before the body ended (HTTP ${res.statusCode})`);
      res.on("error", truncated);
      res.on("close", truncated);
    });
    // A 101 (Switching Protocols) never reaches the response callback: Node hands it to 'upgrade'
    // listeners or, with none, destroys the socket without a word. It is no answer to a webhook.
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      done(res.statusCode ?? 101, "receiver switched protocols (HTTP 101) instead of answering");
    });
    const timedOut = () => {
      const e = new Error(`timed out after ${o.timeoutMs} ms`);
      done(null, e.message);
      req.destroy(e);
    };
    // A hard deadline for the whole exchange, body included, not only socket idleness.
    deadline = setTimeout(timedOut, remaining);
    req.on("timeout", timedOut);
    req.on("error", (e) => done(null, e.message));
    // Closed with neither a response nor an error: a failure now, not a wait for the deadline.
    req.on("close", () => {
      if (!responded) done(null, "connection closed without a response");
    });
    req.end(body);
  });
}
