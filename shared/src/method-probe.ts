import type { Send } from "./openapi-probe.ts";

/**
 * Test helper: every path an app routes (a placeholder UUID for each parameter), called with each
 * method it does not serve there, must answer a wrong method, not a missing resource: 405
 * problem+json whose `Allow` lists exactly the methods served there (HEAD beside GET, which Hono
 * answers with the GET route). Returns one line per deviation, empty when all agree.
 */
export async function probeWrongMethods(routes: readonly { method: string; path: string }[], send: Send, origin = "http://app"): Promise<string[]> {
  const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
  const byPath = new Map<string, Set<string>>();
  for (const r of routes) {
    if (r.method === "ALL") continue; // middleware, not a route
    const path = r.path.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, "00000000-0000-4000-8000-000000000000");
    // A trailing wildcard matches its bare prefix too (`/v1/ocsp/*` serves `/v1/ocsp`).
    const paths = path.endsWith("/*") ? [path.slice(0, -2), path.slice(0, -1) + "x"] : [path];
    for (const p of paths) byPath.set(p, (byPath.get(p) ?? new Set()).add(r.method));
  }
  const wrong: string[] = [];
  for (const [path, served] of byPath) {
    const allow = methods.filter((m) => served.has(m));
    if (served.has("GET")) allow.splice(1, 0, "HEAD");
    for (const m of methods.filter((x) => !served.has(x))) {
      const res = await send(new Request(origin + path, { method: m }));
      const text = await res.text();
      const type = text.startsWith("{") ? (JSON.parse(text) as { type?: string }).type : text.slice(0, 40);
      const got = `${res.status} ${res.headers.get("content-type")} ${res.headers.get("allow")} ${type}`;
      if (got !== `405 application/problem+json ${allow.join(", ")} urn:kakunin:problem:method-not-allowed`) wrong.push(`${m} ${path}: ${got}`);
    }
  }
  if (byPath.size === 0) wrong.push("no routes to probe");
  return wrong;
}
