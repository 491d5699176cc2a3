/**
 * The methods a Hono app answers on a path, for a 405 with an `Allow` header (RFC 9110 §15.5.6)
 * when a request names a route that exists under another method: `DELETE /v1/agents/{id}` is a
 * wrong method, not a missing resource, and a client told 404 would look for a typo in the path.
 *
 * Asks the app's own router, so the answer follows Hono's matching exactly (parameters, wildcards,
 * strictness). Hono stores each handler with its route, whose method is "ALL" for middleware
 * (`app.use`): a path only middleware matches has no route. Structural types, so this package
 * needs no Hono dependency.
 */
export interface RouteMatcher {
  match(method: string, path: string): readonly [ReadonlyArray<readonly [readonly [unknown, { readonly method: string }], ...unknown[]]>, ...unknown[]];
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/**
 * The `Allow` value when `path` has routes but none under `method`; undefined when it has none at
 * all (a 404) or has one under `method` (a route that ran and answered "not found" itself, like an
 * unknown console asset: still a 404).
 */
export function wrongMethodAllow(router: RouteMatcher, method: string, path: string): string | undefined {
  const allow = allowedMethods(router, path);
  return allow.length > 0 && !allow.includes(method) ? allow.join(", ") : undefined;
}

/** The methods with a route at `path`, HEAD beside GET (Hono answers HEAD with the GET route); empty when none. */
function allowedMethods(router: RouteMatcher, path: string): string[] {
  const allow: string[] = [];
  for (const m of METHODS) {
    if (router.match(m, path)[0].some(([[, route]]) => route.method !== "ALL")) allow.push(m);
  }
  if (allow[0] === "GET") allow.splice(1, 0, "HEAD");
  return allow;
}
