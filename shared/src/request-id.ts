const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/**
 * The id a request is logged under: the caller's `x-request-id` when it is a sane token, else the
 * trace id of a W3C `traceparent`, else a fresh UUID. Anything else a client sends is ignored, so
 * a header cannot inject text into the logs. Shared so the edge and the origin accept, echo and
 * invent ids by the same rules.
 */
export function requestIdFrom(headers: { get(name: string): string | null | undefined }): { requestId: string; traceId?: string } {
  const trace = TRACEPARENT.exec(headers.get("traceparent")?.trim().toLowerCase() ?? "");
  const traceId = trace && !/^0+$/.test(trace[1]!) ? trace[1] : undefined;
  const given = headers.get("x-request-id")?.trim();
  if (given && REQUEST_ID.test(given)) return { requestId: given, ...(traceId ? { traceId } : {}) };
  return { requestId: traceId ?? crypto.randomUUID(), ...(traceId ? { traceId } : {}) };
}
