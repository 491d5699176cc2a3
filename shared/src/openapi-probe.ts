import { isObject, operationsOf, securityOf, type Json, type JsonObject } from "./openapi-check.ts";

/**
 * The dynamic half of the OpenAPI check: every documented operation is called once without
 * credentials (placeholder path parameters, `{}` as a JSON body) and the answer must be one the
 * document promises: a documented status, a documented media type, problem+json for errors. An
 * operation that answers 401 must declare security, and one that declares (non-optional) security
 * must answer 401, so a route that needs auth cannot be documented as public or the reverse.
 */

export type Send = (request: Request) => Promise<Response>;

const PLACEHOLDER_UUID = "00000000-0000-4000-8000-000000000000";

function schemaOf(doc: JsonObject, node: Json | undefined): JsonObject {
  const s = isObject(node) ? node.schema : undefined;
  const ref = isObject(s) ? s.$ref : undefined;
  if (typeof ref === "string") {
    const name = ref.split("/").pop() ?? "";
    const schemas = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
    const hit = schemas[name];
    return isObject(hit) ? hit : {};
  }
  return isObject(s) ? s : {};
}

/** A value a parameter's schema accepts in shape (the probe wants a 401/404, not a 422). */
function sample(schema: JsonObject): string {
  if (schema.format === "uuid") return PLACEHOLDER_UUID;
  if (schema.type === "integer" || schema.type === "number") return "1";
  if (Array.isArray(schema.enum) && typeof schema.enum[0] === "string") return schema.enum[0];
  // "1", not "0": a serial is a positive integer (RFC 5280), and zero is refused as no serial (400).
  return "1";
}

/** The request the probe sends for one operation. */
export function probeRequest(doc: JsonObject, base: string, method: string, path: string, op: JsonObject): Request {
  const params = (Array.isArray(op.parameters) ? op.parameters : []).filter(isObject);
  const query = new URLSearchParams();
  let url = path;
  for (const p of params) {
    const value = sample(schemaOf(doc, p));
    if (p.in === "path") url = url.replace(`{${String(p.name)}}`, encodeURIComponent(value));
    else if (p.in === "query" && p.required === true) query.set(String(p.name), value);
  }
  const qs = query.toString();
  const body = isObject(op.requestBody) && isObject(op.requestBody.content) ? op.requestBody.content : undefined;
  const type = body ? Object.keys(body)[0] : undefined;
  const init: RequestInit = { method };
  if (type) init.headers = { "content-type": type };
  if (type && method !== "GET" && method !== "HEAD") init.body = /json/.test(type) ? "{}" : "";
  return new Request(new URL(url + (qs ? `?${qs}` : ""), base), init);
}

function essence(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

function documentedResponse(responses: JsonObject, status: number): JsonObject | undefined {
  const hit = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  return isObject(hit) ? hit : undefined;
}

/** Sends one credential-less request per documented operation; returns the findings. */
export async function probeOpenApiOperations(doc: Json, send: Send, base = "http://localhost"): Promise<string[]> {
  if (!isObject(doc)) return ["the document is not a JSON object"];
  const findings: string[] = [];
  for (const { method, path, op } of operationsOf(doc)) {
    const at = `${method} ${path}`;
    const res = await send(probeRequest(doc, base, method, path, op));
    await res.arrayBuffer();
    const responses = isObject(op.responses) ? op.responses : {};
    const documented = documentedResponse(responses, res.status);
    const type = essence(res.headers.get("content-type"));
    if (!documented) findings.push(`${at}: answered ${res.status} without credentials, which is not a documented response`);
    if (res.status >= 400 && type !== "application/problem+json") findings.push(`${at}: answered ${res.status} as ${type || "no content type"}, not application/problem+json`);
    const media = documented && isObject(documented.content) ? Object.keys(documented.content) : [];
    if (documented && media.length > 0 && !media.some((m) => essence(m) === type)) {
      findings.push(`${at}: answered ${res.status} as ${type || "no content type"}; documented: ${media.join(", ")}`);
    }
    const security = securityOf(doc, op);
    const required = security.length > 0 && !security.some((r) => Object.keys(r).length === 0);
    if (res.status === 401 && !required) findings.push(`${at}: needs credentials (401) but declares no security`);
    if (required && res.status !== 401) findings.push(`${at}: declares security but answered ${res.status} without credentials`);
  }
  return findings;
}
