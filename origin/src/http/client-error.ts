import type { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { problem, PROBLEM_CONTENT_TYPE, type ProblemType } from "@kakunin/shared";

/** Node's HTTP parser errors that mean the request's headers were too large (llhttp code). */
const HEADERS_TOO_LARGE = new Set(["HPE_HEADER_OVERFLOW"]);
/** Node's own request timeouts (headersTimeout / requestTimeout): the client was too slow. */
const TIMED_OUT = new Set(["ERR_HTTP_REQUEST_TIMEOUT"]);

/** The problem for a request the HTTP parser refused, or undefined when there is no one to answer (the peer went away). */
export function clientErrorProblem(code: string | undefined): { type: ProblemType; detail: string } | undefined {
  if (code === "ECONNRESET" || code === "EPIPE") return undefined;
  if (code && HEADERS_TOO_LARGE.has(code)) return { type: "headers-too-large", detail: "The request's headers are over the server's limit (16 KiB)." };
  if (code && TIMED_OUT.has(code)) return { type: "request-timeout", detail: "The request was not received in time." };
  return { type: "bad-request", detail: "The request is not valid HTTP/1.1." };
}

/**
 * Answers requests the HTTP parser refuses before any route sees them (headers over Node's limit,
 * a request line that is not HTTP, a request too slow to arrive) with an RFC 9457 problem, like all
 * other bad input. Without a listener Node writes a bare status line (an empty 431 or 400), which a
 * client's problem+json handling cannot read. The connection is closed after it: the parser's
 * state is unknown, so nothing more can be read from it.
 */
export function answerClientErrors(server: EventEmitter): void {
  server.on("clientError", (err: Error & { code?: string }, socket: Duplex) => {
    const p = clientErrorProblem(err.code);
    // Only when nothing has been written for a request on this socket yet (Node's own rule).
    const busy = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (!p || !socket.writable || busy) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify(problem(p.type, p.detail));
    const { status, title } = problem(p.type, p.detail);
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
