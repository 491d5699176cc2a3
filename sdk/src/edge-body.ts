import { readCapped } from "./capped-body.ts";

/**
 * Largest verify answer read (bytes). A real one is ~1 KB, ~2.5 KB with the certificate's PEM; a
 * body past this is not the contract, and reading it whole let a broken edge (or whoever sits
 * between) fill the gateway's memory until the deadline.
 */
export const MAX_ANSWER_BYTES = 64 * 1024;

export type ParsedBody = { ok: true; value: unknown } | { ok: false; cause: string };

/** The response body as JSON, read through the cap; `value` is undefined when it is not JSON. */
export async function readJsonCapped(res: Response, max = MAX_ANSWER_BYTES): Promise<ParsedBody> {
  const read = await readCapped(res.body, max, res.headers.get("content-length"));
  if (!read.ok) return { ok: false, cause: `edge answer too large (over ${max} bytes)` };
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(read.bytes)) as unknown };
  } catch {
    return { ok: true, value: undefined };
  }
}

/**
 * What a failed fetch says to the on-call engineer. Node's fetch rejects with "fetch failed" and
 * keeps the reason (ECONNREFUSED, ENOTFOUND, a TLS error...) in `cause`, which was dropped.
 */
export function fetchErrorCause(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (!(e.cause instanceof Error)) return e.message;
  // An AggregateError (every address refused) has an empty message but a code.
  const code = (e.cause as Error & { code?: unknown }).code;
  const why = [typeof code === "string" && !e.cause.message.includes(code) ? code : "", e.cause.message].filter(Boolean).join(": ");
  return why ? `${e.message} (${why})` : e.message;
}
