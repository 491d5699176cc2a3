import { createRoute, z } from "@hono/zod-openapi";
import { bandOf, DEFAULT_SCORING, type BandThresholds, MODEL_HASH_PATTERN, SCOPE_PATTERN, type Band, type CertStatusRecord, type FieldError } from "@kakunin/shared";
import { cacheControl, dataResponse, problemResponses, serve, type EdgeApp } from "../http/openapi.ts";
import { edgeProblem } from "../http/problems.ts";
import { ledger } from "../ledger/client.ts";
import { strongReadRefused } from "../http/strong-read-limit.ts";
import { verifyResultSchema } from "../openapi/schemas.ts";
import { evaluate } from "../verify/evaluate.ts";
// Lowercase hex, ≤ 20 octets; colons and upper case (as `openssl x509 -serial` prints) are accepted: one rule with the SDK.
import { canonicalSerial as normaliseSerial } from "@kakunin/verify/rules";

/** Active answers may be cached briefly; revoked and expired are final and may be cached longer. */
const CACHE = { active: "public, max-age=2", final: "public, max-age=300", none: "no-store" };

const noStore = { "cache-control": cacheControl };

export const route = createRoute({
  method: "get",
  path: "/v1/verify/{serial}",
  summary: "Verify an agent's certificate: status computed at request time, risk band, optional model and scope checks",
  tags: ["verification"],
  request: {
    params: z.object({
      serial: z.string().openapi({ description: "Hex serial, ≤ 20 octets; colons and upper case (as openssl prints) are accepted", example: "4d2f0c9a1b3e5f7081928374a5b6c7d8" }),
    }),
    query: z.object({
      model_hash: z.string().regex(MODEL_HASH_PATTERN).optional().openapi({ description: "`valid` is false (reason model_hash_mismatch) unless the certificate binds this model hash" }),
      scope: z.array(z.string().max(128).regex(SCOPE_PATTERN)).optional().openapi({ description: "Repeatable; `valid` is false (scope_not_granted) for each action the agent's scopes do not cover" }),
      max_band: z.enum(["low", "medium"]).optional().openapi({ description: "`valid` is false (reason risk_too_high) when the agent's risk band is above this one" }),
      max_risk: z.string().regex(/^(0(\.\d+)?|1(\.0+)?)$/).optional().openapi({ description: "A score in [0,1]; `valid` is false (risk_too_high) when the agent's risk score is above it" }),
      consistency: z.enum(["eventual", "strong"]).default("eventual").openapi({ description: "`strong` reads the status ledger itself and always reflects every delivered revocation (not cached)" }),
    }),
  },
  responses: {
    200: dataResponse(verifyResultSchema, "The verdict; `valid` false with `reasons` on revoked, expired, or a failed check", { "cache-control": cacheControl }),
    ...problemResponses({
      400: { description: "Not a serial number", headers: noStore },
      404: { description: "No certificate with this serial", headers: noStore },
      422: { description: "Invalid query parameter; `errors` lists each", headers: noStore },
      429: { description: "Too many `consistency=strong` reads from this client", headers: { ...noStore, "retry-after": z.string() } },
    }),
  },
});

export function register(app: EdgeApp): void {
  serve(app, route, async (c) => {
    const serial = normaliseSerial(c.req.param("serial"));
    if (!serial) {
      return edgeProblem(c, "invalid-serial", "A serial number is 1 to 40 hex digits (lowercase, no colons).", { headers: { "cache-control": CACHE.none } });
    }
    const q = new URL(c.req.url).searchParams;
    const errors: FieldError[] = [];
    const modelHash = q.get("model_hash") ?? undefined;
    if (modelHash !== undefined && !MODEL_HASH_PATTERN.test(modelHash)) errors.push({ path: "model_hash", message: "must be sha256:<64 lowercase hex>" });
    const scopes = q.getAll("scope");
    scopes.forEach((s, i) => {
      if (!SCOPE_PATTERN.test(s) || s.length > 128) errors.push({ path: `scope.${i}`, message: "not a scope (dotted segments, optional .*)" });
    });
    const maxBand = q.get("max_band") ?? undefined;
    if (maxBand !== undefined && maxBand !== "low" && maxBand !== "medium") errors.push({ path: "max_band", message: "must be 'low' or 'medium'" });
    const maxRiskRaw = q.get("max_risk") ?? undefined;
    const maxRisk = maxRiskRaw === undefined ? undefined : Number(maxRiskRaw);
    if (maxRiskRaw !== undefined && (maxRiskRaw.trim() === "" || !Number.isFinite(maxRisk) || maxRisk! < 0 || maxRisk! > 1)) {
      errors.push({ path: "max_risk", message: "must be a number in [0,1]" });
    }
    const consistency = q.get("consistency") ?? "eventual";
    if (consistency !== "eventual" && consistency !== "strong") errors.push({ path: "consistency", message: "must be 'eventual' or 'strong'" });
    if (errors.length) return edgeProblem(c, "validation-failed", `${errors.length} invalid query parameter(s)`, { errors, headers: { "cache-control": CACHE.none } });

    if (consistency === "strong") { const refused = await strongReadRefused(c); if (refused) return refused; }
    const key = `cert:${serial}`;
    // Strong reads go to the ledger (authoritative, one hop to its region); the default path is
    // KV at the nearest location (eventually consistent; see README "Revocation latency").
    // Both reads at once: the risk record is keyed by serial so it needs nothing from the first.
    const [raw, risk] = await Promise.all([
      consistency === "strong" ? ledger(c.env).get(key) : c.env.CERT_STATUS.get(key),
      readRisk(c.env, serial),
    ]);
    if (!raw) return edgeProblem(c, "not-found", `No certificate with serial ${serial}.`, { headers: { "cache-control": CACHE.none } });
    const rec = JSON.parse(raw) as CertStatusRecord;
    const result = evaluate(rec, new Date(), { modelHash, scopes, maxBand: maxBand as Band | undefined, maxRisk }, risk);
    const cache = consistency === "strong" ? CACHE.none : result.status === "active" ? CACHE.active : CACHE.final;
    return c.json({ data: result }, 200, { "cache-control": cache });
  });
}

/** The agent's current risk as its monitor last published it (per certificate); low until it has seen events. */
async function readRisk(env: Env, serial: string): Promise<{ score: number; band: Band }> {
  const raw = await env.CERT_STATUS.get(`risk:${serial}`);
  if (!raw) return { score: 0, band: "low" };
  const r = JSON.parse(raw) as { score: number; t?: number; thresholds?: BandThresholds };
  // Risk decays between events exactly as the monitor computes it; the bands are the tenant's.
  const score = Math.round(r.score * Math.exp(-Math.max(0, Date.now() - (r.t ?? Date.now())) / DEFAULT_SCORING.riskDecayMs) * 1000) / 1000;
  return { score, band: bandOf(score, r.thresholds) };
}
