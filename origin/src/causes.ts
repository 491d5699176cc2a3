/**
 * An error and its causes, outermost first: `e`, `e.cause`, `e.cause.cause`, … (drizzle wraps the
 * driver's error, which may wrap a socket error). At most `levels` of them, `e` included, so a
 * cyclic or absurdly deep chain cannot hold up an error path; a missing or falsy cause ends it.
 */
export function* causes(e: unknown, levels: number): Generator<unknown> {
  let cur = e;
  for (let level = 1; ; level++) {
    yield cur;
    if (level >= levels || !(typeof cur === "object" && cur && "cause" in cur && cur.cause)) return;
    cur = cur.cause;
  }
}

/** The deepest of `causes(e, levels)`: the error that says what actually went wrong. */
export function innermost(e: unknown, levels: number): unknown {
  let last = e;
  for (const cur of causes(e, levels)) last = cur;
  return last;
}

/** The message of `innermost(e, levels)`: what a log line or a stored failure reason quotes. */
export function innermostMessage(e: unknown, levels: number): string {
  const cur = innermost(e, levels);
  return cur instanceof Error ? cur.message : String(cur);
}

/** The first Postgres SQLSTATE (five digits or capitals in `code`) among `causes(e, levels)`: drizzle wraps the driver's error. */
export function sqlStateIn(e: unknown, levels: number): string | undefined {
  for (const cur of causes(e, levels)) {
    if (typeof cur === "object" && cur && "code" in cur && typeof cur.code === "string" && /^[0-9A-Z]{5}$/.test(cur.code)) return cur.code;
  }
  return undefined;
}
