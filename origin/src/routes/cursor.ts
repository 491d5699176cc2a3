import { and, eq, gt, lt, or, type Column, type SQL } from "drizzle-orm";
import { z } from "zod";
import { invalidQueryField } from "../http/api-error.ts";
import { queryInt } from "./query-int.ts";
import { inInstantRange } from "./query-time.ts";

/**
 * Keyset pagination: the cursor is the (created_at, id) of the last row returned, opaque to
 * clients (base64url JSON). Stable under concurrent inserts, unlike offsets.
 */
// A cursor names a row's created_at, so its time is one the database holds (a forged year 0000 was a 500).
const cursorShape = z.object({ t: z.iso.datetime().refine((t) => inInstantRange(Date.parse(t))), id: z.uuid() });
export type Cursor = { t: Date; id: string };

export function encodeCursor(c: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ t: c.createdAt.toISOString(), id: c.id })).toString("base64url");
}

export function decodeCursor(raw: string): Cursor | undefined {
  try {
    const parsed = cursorShape.safeParse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8")));
    return parsed.success ? { t: new Date(parsed.data.t), id: parsed.data.id } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The query's `cursor`: undefined without one; one this API did not return is a 422 naming the field.
 * An empty `?cursor=` is the first page: the contract writes the list as `?cursor=&limit=`, and a
 * client that fills in the previous `next_cursor` sends it empty before it has one.
 */
export function cursorParam(raw: string | undefined): Cursor | undefined {
  if (raw === undefined || raw === "") return undefined;
  const cursor = decodeCursor(raw);
  if (!cursor) {
    throw invalidQueryField("cursor", "not a cursor returned by this API");
  }
  return cursor;
}

/**
 * Rows after `cursor` in (time, id) order, the order every keyset-paged list sorts by: a later
 * time, or the same time and a greater id (ties on time are common: rows created in one batch).
 */
export function afterCursor(time: Column, id: Column, cursor: Cursor): SQL {
  return or(gt(time, cursor.t), and(eq(time, cursor.t), gt(id, cursor.id)))!;
}

/** The same for lists sorted newest first: an earlier time, or the same time and a smaller id. */
export function beforeCursor(time: Column, id: Column, cursor: Cursor): SQL {
  return or(lt(time, cursor.t), and(eq(time, cursor.t), lt(id, cursor.id)))!;
}

/**
 * One page of a keyset list queried with `limit + 1` rows (the extra row only says there is more):
 * the first `limit` rows, and the cursor after the last of them while more remain. `key` names the
 * row's (time, id), the pair the list sorts and pages by.
 */
export function keysetPage<R>(rows: R[], limit: number, key: (r: R) => { createdAt: Date; id: string }): { page: R[]; next: string | null } {
  const page = rows.slice(0, limit);
  return { page, next: rows.length > limit ? encodeCursor(key(page[page.length - 1]!)) : null };
}

export const pageQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: queryInt(1, 200).default(50),
});
