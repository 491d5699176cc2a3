import type { GateOptions } from "./gate.ts";
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
}

export async function resolveChecks<Req>(req: Req, options: MiddlewareOptions<Req>): Promise<VerifyChecks> {
  const scope = typeof options.scope === "function" ? await options.scope(req) : options.scope;
  const modelHash = typeof options.modelHash === "function" ? await options.modelHash(req) : options.modelHash;
  const maxBand = typeof options.maxBand === "function" ? await options.maxBand(req) : options.maxBand;
  const maxRisk = typeof options.maxRisk === "function" ? await options.maxRisk(req) : options.maxRisk;
  return {
    ...(scope !== undefined && { scope }),
    ...(modelHash !== undefined && { modelHash }),
    ...(maxBand !== undefined && { maxBand }),
    ...(maxRisk !== undefined && { maxRisk }),
  };
}
