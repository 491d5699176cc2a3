import { riskLimitError } from "./evaluate.ts";
import type { GateOptions } from "./gate.ts";
import { gatewayProblem, type GatewayProblem } from "./problems.ts";
import type { VerifyChecks } from "./types.ts";

/** A requirement fixed for the route, or computed per request (from the path, the body...). */
export type PerRequest<Req, T> = T | ((req: Req) => T | undefined | Promise<T | undefined>);

export interface MiddlewareOptions<Req> extends GateOptions {
  /** Actions the agent's scopes must cover, e.g. `"orders.place"`; a wildcard scope like `orders.*` covers it. */
  scope?: PerRequest<Req, string | readonly string[]>;
  /** `sha256:<hex>` the certificate must bind. */
  modelHash?: PerRequest<Req, string>;
  /** Refuse (403 risk-too-high) agents whose risk band is above this, e.g. `"medium"` for payments. */
  maxBand?: PerRequest<Req, "low" | "medium">;
  /** Refuse (403 risk-too-high) agents whose risk score (0–1) is above this. */
  maxRisk?: PerRequest<Req, number>;
  /**
   * Tenant id(s) whose agents this gateway accepts; any other agent is refused (403
   * tenant-not-allowed). Optional only for compatibility: without it, an agent certified by any
   * tenant on the edge passes.
   */
  tenant?: string | readonly string[];
}

/** Thrown by resolveChecks for a per-request value that would silently weaken a check. */
export class InvalidCheckError extends Error {
  override name = "InvalidCheckError";
}

/**
 * Static values checked when the middleware is built: a misconfigured gateway should fail at
 * startup, not let traffic through with a ceiling that never refuses.
 */
export function assertStaticOptions<Req>(options: MiddlewareOptions<Req>): void {
  const band = typeof options.maxBand === "function" ? undefined : options.maxBand;
  const risk = typeof options.maxRisk === "function" ? undefined : options.maxRisk;
  const error = riskLimitError(band, risk);
  if (error !== undefined) throw new TypeError(`kakunin(): ${error}`);
  if (options.tenant !== undefined) {
    const list: readonly unknown[] = typeof options.tenant === "string" ? [options.tenant] : options.tenant;
    if (list.length === 0 || !list.every((t) => typeof t === "string" && t !== "")) {
      throw new TypeError("kakunin(): `tenant` must be a tenant id or a non-empty list of them");
    }
  }
}

export async function resolveChecks<Req>(req: Req, options: MiddlewareOptions<Req>): Promise<VerifyChecks> {
  const scope = typeof options.scope === "function" ? await options.scope(req) : options.scope;
  const modelHash = typeof options.modelHash === "function" ? await options.modelHash(req) : options.modelHash;
  const maxBand = typeof options.maxBand === "function" ? await options.maxBand(req) : options.maxBand;
  const maxRisk = typeof options.maxRisk === "function" ? await options.maxRisk(req) : options.maxRisk;
  const error = riskLimitError(maxBand, maxRisk);
  if (error !== undefined) throw new InvalidCheckError(error);
  return {
    ...(scope !== undefined && { scope }),
    ...(modelHash !== undefined && { modelHash }),
    ...(maxBand !== undefined && { maxBand }),
    ...(maxRisk !== undefined && { maxRisk }),
    ...(options.tenant !== undefined && { tenant: options.tenant }),
  };
}

/** resolveChecks for the middlewares: a bad per-request value is a 500 problem, not a pass or a crash. */
export async function resolveChecksOrProblem<Req>(
  req: Req,
  options: MiddlewareOptions<Req>,
): Promise<{ ok: true; checks: VerifyChecks } | { ok: false; problem: GatewayProblem }> {
  try {
    return { ok: true, checks: await resolveChecks(req, options) };
  } catch (e) {
    if (e instanceof InvalidCheckError)
      return { ok: false, problem: gatewayProblem("internal-error", `the gateway computed an invalid check for this request: ${e.message}`) };
    throw e;
  }
}

/**
 * A 400 problem when the path and query of the raw request `target` are not exactly those of `url`,
 * the URL the middleware computes the signature's `@path` and `@query` from. The WHATWG parser
 * removes `.` / `..` segments (also `%2e`), reads `\` as `/`, takes an origin-form target's leading
 * `//` as an authority and percent-encodes what it must, while a framework routes the raw target: a
 * request signed for one route could reach another (`/a/b` signed, `/a\b` routed as one segment).
 * A client that sends the URL it signed (any fetch does) sends the canonical form, so nothing
 * legitimate is refused. The fragment, never sent by fetch and never routed, is ignored.
 */
export function targetProblem(target: string, url: URL): GatewayProblem | undefined {
  // Absolute form (a fetch Request's url) or origin form (Express's originalUrl): path and query count.
  const rest = target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]*/i, "").split("#", 1)[0] ?? "";
  const raw = rest.startsWith("/") ? rest : `/${rest}`;
  const parsed = new URL(url.href);
  parsed.hash = "";
  if (parsed.href.slice(parsed.origin.length) === raw) return undefined;
  return gatewayProblem(
    "path-not-canonical",
    "the request target is not in canonical form ('.' or '..' segments, '\\', a leading '//', unencoded characters); send the normalised path and query that were signed",
  );
}
