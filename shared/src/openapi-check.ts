/**
 * CI check that an app's OpenAPI document and its routing table agree: every served route is
 * documented and every documented operation is served, and the document is well-formed enough for
 * client generators (summaries, responses, resolvable $refs, declared path parameters, problem+json
 * errors, known security schemes). Used by the origin's and the edge's tests alike, so it imports
 * nothing but Web APIs. Each function returns the list of findings; empty means the check passed.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One entry of a Hono app's `routes`. */
export interface ServedRoute {
  method: string;
  path: string;
}

export interface Operation {
  method: string;
  path: string;
  op: JsonObject;
}

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const PROBLEM_JSON = "application/problem+json";

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every operation in `doc.paths`, in document order. */
export function operationsOf(doc: JsonObject): Operation[] {
  const out: Operation[] = [];
  const paths = doc.paths;
  if (!isObject(paths)) return out;
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (isObject(op)) out.push({ method: method.toUpperCase(), path, op });
    }
  }
  return out;
}

/**
 * A Hono pattern in OpenAPI spelling: `:id` and `:id{regex}` become `{id}`. A trailing `*` stays
 * `*` and stands for any one documented path parameter (Hono cannot name a wildcard).
 */
export function toTemplate(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^/]*\})?\??/g, "{$1}");
}

function templateMatches(served: string, documented: string): boolean {
  if (served === documented) return true;
  if (!served.endsWith("/*")) return false;
  const m = /^(.*\/)\{[^/}]+\}$/.exec(documented);
  return m !== null && m[1] === served.slice(0, -1);
}

/** Served routes minus Hono middleware (`ALL *`) and the excluded paths, one per method and path. */
export function servedOperations(routes: readonly ServedRoute[], exclude: readonly string[]): ServedRoute[] {
  const seen = new Map<string, ServedRoute>();
  for (const r of routes) {
    if (r.method === "ALL" && (r.path === "*" || r.path === "/*")) continue;
    if (exclude.includes(r.path)) continue;
    const t = { method: r.method.toUpperCase(), path: toTemplate(r.path) };
    seen.set(`${t.method} ${t.path}`, t);
  }
  return [...seen.values()];
}

/** Both directions: served but undocumented, documented but not served. */
export function checkCoverage(doc: JsonObject, routes: readonly ServedRoute[], exclude: readonly string[] = []): string[] {
  const served = servedOperations(routes, exclude);
  const documented = operationsOf(doc);
  const findings: string[] = [];
  for (const s of served) {
    if (!documented.some((d) => d.method === s.method && templateMatches(s.path, d.path))) {
      findings.push(`${s.method} ${s.path} is served but not documented`);
    }
  }
  for (const d of documented) {
    if (!served.some((s) => s.method === d.method && templateMatches(s.path, d.path))) {
      findings.push(`${d.method} ${d.path} is documented but not served`);
    }
  }
  return findings;
}

function resolvePointer(doc: JsonObject, ref: string): Json | undefined {
  let node: Json | undefined = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else return undefined;
  }
  return node;
}

/**
 * Every `$ref` is local and resolves, and every `pattern` is a plain ECMA-262 regex. A JavaScript
 * flag leaking into a pattern (`^a$/i`, as zod-to-openapi writes a RegExp with flags) makes it
 * match nothing, so generated clients would refuse every value.
 */
export function checkRefs(doc: JsonObject): string[] {
  const findings: string[] = [];
  const walk = (node: Json, at: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}/${i}`));
    else if (isObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === "$ref" && typeof v === "string") {
          if (!v.startsWith("#/") || resolvePointer(doc, v) === undefined) findings.push(`${at}: $ref ${v} does not resolve`);
        } else if (k === "pattern" && typeof v === "string") {
          findings.push(...checkPattern(v, at));
        } else walk(v, `${at}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
      }
    }
  };
  walk(doc, "#");
  return findings;
}

function checkPattern(pattern: string, at: string): string[] {
  if (/\$\/[dgimsuvy]+$/.test(pattern)) return [`${at}: pattern ${pattern} carries JavaScript regex flags and can never match`];
  try {
    new RegExp(pattern);
    return [];
  } catch {
    return [`${at}: pattern ${pattern} is not a valid regular expression`];
  }
}

function deref(doc: JsonObject, node: Json | undefined): Json | undefined {
  const ref = isObject(node) ? node.$ref : undefined;
  return typeof ref === "string" && ref.startsWith("#/") ? resolvePointer(doc, ref) : node;
}

/** The security requirements that apply to an operation (its own, else the document's). */
export function securityOf(doc: JsonObject, op: JsonObject): JsonObject[] {
  const s = op.security ?? doc.security;
  return Array.isArray(s) ? s.filter(isObject) : [];
}

/** Per operation: summary, responses with descriptions, path parameters, problem+json, security schemes. */
export function checkOperations(doc: JsonObject): string[] {
  const findings: string[] = [];
  const components = isObject(doc.components) ? doc.components : {};
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  for (const { method, path, op } of operationsOf(doc)) {
    const at = `${method} ${path}`;
    if (typeof op.summary !== "string" || op.summary.trim() === "") findings.push(`${at}: no summary`);
    const responses = isObject(op.responses) ? op.responses : {};
    if (Object.keys(responses).length === 0) findings.push(`${at}: no responses`);
    for (const [status, raw] of Object.entries(responses)) {
      const res = deref(doc, raw);
      if (!isObject(res) || typeof res.description !== "string") {
        findings.push(`${at} ${status}: response without a description`);
        continue;
      }
      if (/^[45]/.test(status)) {
        const types = isObject(res.content) ? Object.keys(res.content) : [];
        if (types.length === 0 || types.some((t) => t !== PROBLEM_JSON)) {
          findings.push(`${at} ${status}: an error response must be ${PROBLEM_JSON} (has ${types.join(", ") || "no content"})`);
        }
      }
    }
    const params = (Array.isArray(op.parameters) ? op.parameters : []).map((p) => deref(doc, p)).filter(isObject);
    const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const name of inPath) {
      if (!params.some((p) => p.in === "path" && p.name === name && p.required === true)) findings.push(`${at}: path parameter {${name}} not declared as required`);
    }
    for (const p of params) {
      if (p.in === "path" && !inPath.includes(String(p.name))) findings.push(`${at}: declares path parameter ${String(p.name)} not in the path`);
    }
    for (const req of securityOf(doc, op)) {
      for (const name of Object.keys(req)) {
        if (!isObject(schemes[name])) findings.push(`${at}: security scheme ${name} is not defined in components.securitySchemes`);
      }
    }
  }
  return findings;
}

/** The whole static check: version, coverage both ways, operations, $refs and patterns. */
export function checkOpenApiDocument(doc: Json, routes: readonly ServedRoute[], exclude: readonly string[] = []): string[] {
  if (!isObject(doc)) return ["the document is not a JSON object"];
  const findings: string[] = [];
  if (doc.openapi !== "3.1.0") findings.push(`openapi is ${JSON.stringify(doc.openapi)}, expected "3.1.0"`);
  if (!isObject(doc.info) || typeof doc.info.title !== "string" || typeof doc.info.version !== "string") findings.push("info.title and info.version are required");
  return [...findings, ...checkCoverage(doc, routes, exclude), ...checkOperations(doc), ...checkRefs(doc)];
}
