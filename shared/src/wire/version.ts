/**
 * Versioning of the edge⇄origin wire contracts. During a rolling deploy an old origin talks to a
 * new edge and the reverse, so every contract body carries `wire_version` (absent = 1, the shape
 * before the field existed). A receiver accepts the versions in ACCEPTED_WIRE_VERSIONS (N and N-1)
 * and refuses any other with 426 `unsupported-wire-version`, which a sender treats as "hold and
 * alert" (retry later, never dead-letter): the other side is being upgraded, the data is fine.
 */
export const WIRE_VERSION = 2;
export const ACCEPTED_WIRE_VERSIONS: readonly number[] = [1, 2];
export const WIRE_VERSION_STATUS = 426;

export type WireVersionCheck = { ok: true; version: number } | { ok: false; version: unknown };

/**
 * Reads `wire_version` from a parsed body before the schema runs (an unknown version may have an
 * unknown shape). `accepted`: the contract's own list when it has moved past WIRE_VERSION.
 */
export function checkWireVersion(body: unknown, accepted: readonly number[] = ACCEPTED_WIRE_VERSIONS): WireVersionCheck {
  const raw = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as { wire_version?: unknown }).wire_version : undefined;
  const version = raw === undefined ? 1 : raw;
  if (typeof version === "number" && accepted.includes(version)) return { ok: true, version };
  return { ok: false, version };
}

/** Whether an answer means "the receiver runs another contract version": hold, do not split or dead-letter. */
export function isWireVersionRefusal(status: number, body: string): boolean {
  return status === WIRE_VERSION_STATUS && body.includes("unsupported-wire-version");
}
