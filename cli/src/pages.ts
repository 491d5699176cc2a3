/** Cursor-paged lists (`{data, next_cursor}`): one page, or every page with --all. */
import type { Parsed } from "./args.ts";
import { call, type Endpoint, type Failure } from "./http.ts";
import { UsageError } from "./io.ts";
import { err, ok, type Result } from "@kakunin/shared";

interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** The API's largest page. */
const MAX_LIMIT = 200;

/** The option lines a paged command's help shows. */
export const PAGE_HELP = (what: string) => [
  `  --limit N        ${what} per page, 1-${MAX_LIMIT} (default 50)`,
  "  --cursor C       continue from a previous page's next cursor",
  "  --all            follow every page",
];

/**
 * GET `path` from --cursor (or the start), following next_cursor while --all: the rows and the
 * cursor left over. The endpoint is resolved after the options are checked, so a usage error is
 * reported as one whatever the configuration.
 */
export async function fetchPages<T>(
  a: Parsed,
  help: string,
  endpoint: () => Endpoint,
  path: string,
  query: Record<string, string | undefined> = {},
): Promise<Result<{ rows: T[]; next: string | null }, Failure>> {
  if (a.bool("all") && a.str("cursor") !== undefined) throw new UsageError("--all starts at the first page; drop --cursor", help);
  // Checked here, not left to the API: a typo is a usage error (exit 2), not a refusal (exit 3).
  const limit = a.str("limit");
  if (limit !== undefined && (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT)) {
    throw new UsageError(`--limit must be 1-${MAX_LIMIT}, got ${limit}`, help);
  }
  const ep = endpoint();
  const rows: T[] = [];
  let cursor = a.str("cursor");
  let next: string | null = null;
  do {
    const r = await call<Page<T>>("GET", ep, path, { query: { ...query, limit: a.str("limit"), cursor } });
    if (!r.ok) return err(r.error);
    rows.push(...r.value.body.data);
    next = r.value.body.next_cursor;
    cursor = next ?? undefined;
  } while (a.bool("all") && next !== null);
  return ok({ rows, next });
}
