/**
 * HTTP to the origin and the edge. Every outcome a user can cause or meet (a refused request, a
 * server that is down) is a Failure value; the command decides what to print and which exit code
 * it means (reportFailure does the usual).
 */
import { err, ok, type Problem, type Result } from "@kakunin/shared";
import { EXIT, type Io } from "./io.ts";

export interface Endpoint {
  /** Named in messages and hints: `origin` (--origin) or `edge` (--edge). */
  name: "origin" | "edge";
  url: string;
  bearer?: string;
}

export type Failure =
  /** A 4xx: the API understood and said no. */
  | { kind: "refused"; status: number; problem: Problem; headers: Headers }
  /** No answer, a timeout, a 5xx, or a response that is not the API's. */
  | { kind: "unavailable"; detail: string; status?: number; retryAfterS?: number };

export interface Reply<T> {
  status: number;
  body: T;
  /** The body exactly as received (audit export writes it unchanged). */
  text: string;
  headers: Headers;
}

export interface CallOptions {
  body?: unknown;
  query?: Record<string, string | readonly string[] | undefined>;
  timeoutMs?: number;
}

function urlOf(ep: Endpoint, path: string, query: CallOptions["query"]): string {
  const u = new URL(ep.url + path);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    for (const one of typeof v === "string" ? [v] : v) u.searchParams.append(k, one);
  }
  return u.toString();
}

function asProblem(status: number, statusText: string, text: string): Problem {
  try {
    const p = JSON.parse(text) as Partial<Problem>;
    if (p && typeof p === "object" && typeof p.title === "string") {
      return { ...p, type: String(p.type ?? "about:blank"), title: p.title, status, detail: String(p.detail ?? "") };
    }
  } catch {
    /* not a problem document: described below */
  }
  return { type: "about:blank", title: statusText || `HTTP ${status}`, status, detail: text.slice(0, 300) };
}

/** The URL as it may be printed: without a user name or password. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/+$/, "");
  } catch {
    return "(the configured URL)";
  }
}

function networkDetail(ep: Endpoint, e: unknown): string {
  const hint = ep.name === "origin" ? "--origin / KAKUNIN_ORIGIN_URL" : "--edge / KAKUNIN_EDGE_URL";
  const url = shownUrl(ep.url);
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return `the ${ep.name} at ${url} did not answer in time`;
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : undefined;
  const code = cause && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  // fetch's own messages quote the request (a header value, a URL with its password): only a
  // system error code or the message of the underlying socket error is shown, never the TypeError
  // fetch throws while building the request.
  const why = code ?? cause?.message ?? "the request could not be sent";
  return `cannot reach the ${ep.name} at ${url} (${redact(why, ep)}); is it running? (${hint})`;
}

/** Removes the endpoint's bearer and URL credentials from a text, whatever produced it. */
function redact(text: string, ep: Endpoint): string {
  let out = text;
  const secrets = [ep.bearer];
  try {
    const u = new URL(ep.url);
    secrets.push(u.password ? decodeURIComponent(u.password) : undefined, u.password || undefined);
  } catch {
    /* not a URL: nothing more to remove */
  }
  for (const s of secrets) if (s) out = out.split(s).join("[redacted]");
  return out;
}

export async function call<T>(method: string, ep: Endpoint, path: string, o: CallOptions = {}): Promise<Result<Reply<T>, Failure>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (ep.bearer !== undefined) headers.authorization = `Bearer ${ep.bearer}`;
  if (o.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  let text: string;
  try {
    res = await fetch(urlOf(ep, path, o.query), {
      method, headers, body: o.body === undefined ? undefined : typeof o.body === "string" ? o.body : JSON.stringify(o.body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
    });
    text = await res.text();
  } catch (e) {
    return err({ kind: "unavailable", detail: networkDetail(ep, e) });
  }
  if (res.status >= 400 && res.status < 500) return err({ kind: "refused", status: res.status, problem: asProblem(res.status, res.statusText, text), headers: res.headers });
  if (res.status >= 500) {
    const p = asProblem(res.status, res.statusText, text);
    const retry = Number(res.headers.get("retry-after"));
    return err({
      kind: "unavailable", status: res.status, retryAfterS: Number.isFinite(retry) && retry >= 0 ? retry : undefined,
      detail: `the ${ep.name} answered ${res.status} ${p.title}${p.detail ? `: ${p.detail}` : ""}`,
    });
  }
  try {
    return ok({ status: res.status, body: (text === "" ? undefined : JSON.parse(text)) as T, text, headers: res.headers });
  } catch {
    return err({ kind: "unavailable", status: res.status, detail: `the ${ep.name} at ${shownUrl(ep.url)} answered ${res.status} with a body that is not JSON; is that URL a Kakunin ${ep.name}?` });
  }
}

/**
 * A GET whose 2xx body is left unread for the caller to stream (evidence bundles are larger than
 * memory should hold); any other answer is read and mapped to a Failure exactly as `call` does.
 */
export async function openStream(ep: Endpoint, path: string, o: CallOptions = {}): Promise<Result<Response, Failure>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (ep.bearer !== undefined) headers.authorization = `Bearer ${ep.bearer}`;
  let res: Response;
  try {
    res = await fetch(urlOf(ep, path, o.query), { headers, signal: AbortSignal.timeout(o.timeoutMs ?? 60_000) });
  } catch (e) {
    return err({ kind: "unavailable", detail: networkDetail(ep, e) });
  }
  if (res.ok && res.body) return ok(res);
  const text = await res.text().catch(() => "");
  if (res.status >= 400 && res.status < 500) return err({ kind: "refused", status: res.status, problem: asProblem(res.status, res.statusText, text), headers: res.headers });
  const p = asProblem(res.status, res.statusText, text);
  return err({ kind: "unavailable", status: res.status, detail: `the ${ep.name} answered ${res.status} ${p.title}${p.detail ? `: ${p.detail}` : ""}` });
}

/** Problem title, detail and each field error, on stderr. */
export function describeProblem(p: Problem): string {
  const lines = [`${p.title} (${p.status})${p.detail ? `: ${p.detail}` : ""}`];
  for (const e of Array.isArray(p.errors) ? p.errors : []) lines.push(`  ${e.path}: ${e.message}`);
  return lines.join("\n");
}

/** Prints a failure on stderr and returns its exit code: 3 refused, 4 unavailable. */
export function reportFailure(io: Io, f: Failure): number {
  if (f.kind === "refused") {
    io.err(`kakunin: ${describeProblem(f.problem)}\n`);
    return EXIT.refused;
  }
  io.err(`kakunin: ${f.detail}\n`);
  return EXIT.unavailable;
}
