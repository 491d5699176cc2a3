import { z } from "zod";

/**
 * The instants the API reads from callers (query times, cursors): RFC 3339 with an offset, and
 * inside years 0001–9999 UTC once the offset is applied. RFC 3339's syntax allows year 0000 and an
 * offset can carry 9999-12-31T23:59Z past the year 10000, but PostgreSQL has no year 0 and neither
 * it nor `Date.toISOString` writes a five-digit year the other reads, so such a time reached the
 * database as a 500 (sqlstate 22008) instead of the caller's 422.
 */
export const MIN_INSTANT_MS = Date.parse("0001-01-01T00:00:00Z");
export const MAX_INSTANT_MS = Date.parse("9999-12-31T23:59:59.999Z");

export function inInstantRange(ms: number): boolean {
  return ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS;
}

const OUT_OF_RANGE = "must fall between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z";

/** An RFC 3339 time with any offset whose instant the database can hold. */
export const apiInstant = z.iso.datetime({ offset: true }).refine((v) => inInstantRange(Date.parse(v)), OUT_OF_RANGE);
