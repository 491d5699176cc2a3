import { createRoute, z } from "@hono/zod-openapi";
import { BANDS, bandOf, decayRisk, roundScore, type BandThresholds, MODEL_HASH_PATTERN, SCOPE_PATTERN, type Band, type CertStatusRecord, type FieldError } from "@kakunin/shared";
import { cacheControl, dataResponse, problemResponses, serve, type EdgeApp } from "../http/openapi.ts";
import { edgeProblem } from "../http/problems.ts";
import { ledger } from "../ledger/client.ts";
import { fromStore } from "../http/store-unavailable.ts";
import { strongReadRefused } from "../http/strong-read-limit.ts";
import { verifyResultSchema } from "../openapi/schemas.ts";
import { evaluate } from "../verify/evaluate.ts";
// Lowercase hex, ≤ 20 octets; colons and upper case (as `openssl x509 -serial` prints) are accepted: one rule with the SDK.
import { canonicalSerial as normaliseSerial } from "@kakunin/verify/rules";
import { cacheTtlMs, statusCache, type StatusEntry } from "../verify/status-cache.ts";
import { activeCacheControl, FINAL_MAX_AGE_S } from "../verify/freshness.ts";

/** Active answers may be cached briefly (activeCacheControl); revoked and expired are final and may be cached longer. */
const CACHE = { final: `public, max-age=${FINAL_MAX_AGE_S}`, none: "no-store" };

const noStore = { "cache-control": cacheControl };

/** A score in [0,1] written as a plain decimal: 0, 0.6, 1, 1.0. */
const MAX_RISK_PATTERN = /^(0(\.\d+)?|1(\.0+)?)$/;

/** Query parameters that take one value; `scope` and `include` are repeatable. */
const SINGLE_VALUED = ["model_hash", "max_band", "max_risk", "consistency"] as const;

/** Optional fields a caller can ask for with `?include=` (repeatable or comma-separated). */
const INCLUDABLE = ["certificate_pem"] as const;

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
      max_band: z.enum(BANDS).optional().openapi({ description: "`valid` is false (reason risk_too_high) when the agent's risk band is above this one (`high` refuses none, as the SDK's maxBand does)" }),
      max_risk: z.string().regex(MAX_RISK_PATTERN).optional().openapi({ description: "A score in [0,1]; `valid` is false (risk_too_high) when the agent's risk score is above it" }),
      consistency: z.enum(["eventual", "strong"]).default("eventual").openapi({ description: "`strong` reads the status ledger itself and always reflects every delivered revocation (not cached)" }),
      include: z.enum(INCLUDABLE).optional().openapi({ description: "`certificate_pem` adds the certificate's PEM to the answer (proof-of-possession gateways); left out otherwise" }),
    }),
  },
  responses: {
    200: dataResponse(verifyResultSchema, "The verdict; `valid` false with `reasons` on revoked, expired, or a failed check", { "cache-control": cacheControl }),
    ...problemResponses({
      400: { description: "Not a serial number", headers: noStore },
      404: { description: "No certificate with this serial", headers: noStore },
      422: { description: "Invalid query parameter; `errors` lists each", headers: noStore },
      429: { description: "Too many `consistency=strong` reads from this client", headers: { ...noStore, "retry-after": z.string() } },
      503: { description: "This edge's status store (KV or the status ledger) did not answer (edge-store-unavailable): retry after Retry-After", headers: { ...noStore, "retry-after": z.string() } },
    }),
  },
});


export function register(app: EdgeApp): void {
  serve(app, route, async (c) => {
    const serial = normaliseSerial(c.req.param("serial"));
    if (!serial) {
      return edgeProblem(c, "invalid-serial", "A serial number is hex digits, at most 20 octets (upper case, colons and a sign-padding 00 octet are accepted).", { headers: { "cache-control": CACHE.none } });
    }
    const q = new URL(c.req.url).searchParams;
    const errors: FieldError[] = [];
    // A check asked for twice is ambiguous: reading only the first would silently drop a stricter
    // ceiling or a second model hash that a gateway appended, and answer valid.
    for (const p of SINGLE_VALUED) if (q.getAll(p).length > 1) errors.push({ path: p, message: "given more than once; send it once" });
    const modelHash = q.get("model_hash") ?? undefined;
    if (modelHash !== undefined && !MODEL_HASH_PATTERN.test(modelHash)) errors.push({ path: "model_hash", message: "must be sha256:<64 lowercase hex>" });
    const scopes = q.getAll("scope");
    scopes.forEach((s, i) => {
      if (!SCOPE_PATTERN.test(s) || s.length > 128) errors.push({ path: `scope.${i}`, message: "not a scope (dotted segments, optional .*)" });
    });
    const maxBand = q.get("max_band") ?? undefined;
    // `high` is accepted and refuses no band, as the SDK's maxBand: "high" does (a gateway's setting
    // written out in full, not an error).
    if (maxBand !== undefined && !(BANDS as readonly string[]).includes(maxBand)) errors.push({ path: "max_band", message: "must be 'low', 'medium' or 'high'" });
    const maxRiskRaw = q.get("max_risk") ?? undefined;
    const maxRisk = maxRiskRaw === undefined ? undefined : Number(maxRiskRaw);
    // The documented pattern, not Number(): `0x1`, `1e0` and ` 1` are not how a score is written.
    if (maxRiskRaw !== undefined && (!MAX_RISK_PATTERN.test(maxRiskRaw) || !Number.isFinite(maxRisk) || maxRisk! < 0 || maxRisk! > 1)) {
      errors.push({ path: "max_risk", message: "must be a number in [0,1]" });
    }
    const consistency = q.get("consistency") ?? "eventual";
    if (consistency !== "eventual" && consistency !== "strong") errors.push({ path: "consistency", message: "must be 'eventual' or 'strong'" });
    const include = q.getAll("include").flatMap((v) => v.split(","));
    include.forEach((v, i) => {
      if (!(INCLUDABLE as readonly string[]).includes(v)) errors.push({ path: `include.${i}`, message: `must be one of ${INCLUDABLE.join(", ")}` });
    });
    if (errors.length) return edgeProblem(c, "validation-failed", `${errors.length} invalid query parameter(s)`, { errors, headers: { "cache-control": CACHE.none } });

    if (consistency === "strong") { const refused = await strongReadRefused(c); if (refused) return refused; }
    const entry = consistency === "strong" ? await readStrong(c.env, serial) : await readEventual(c.env, serial);
    if (!entry.cert) return edgeProblem(c, "not-found", `No certificate with serial ${serial}.`, { headers: { "cache-control": CACHE.none } });
    const rec = JSON.parse(entry.cert) as CertStatusRecord;
    const result = evaluate(rec, new Date(), { modelHash, scopes, maxBand: maxBand as Band | undefined, maxRisk }, riskOf(entry.risk));
    const cache = consistency === "strong" ? CACHE.none : result.status === "active" ? activeCacheControl(rec, Date.now()) : CACHE.final;
    // The PEM (~1.5 KB, most of the answer) only for callers that check signatures with it.
    const data = include.includes("certificate_pem") ? { ...result, certificate_pem: rec.certificate_pem } : result;
    return c.json({ data }, 200, { "cache-control": cache });
  });
}

/**
 * The default path: the in-isolate cache (staleness bounded, see status-cache.ts), else one KV
 * operation for both the certificate and the risk record (a bulk get of two keys).
 */
async function readEventual(env: Env, serial: string): Promise<StatusEntry> {
  const now = Date.now();
  const hit = statusCache.get(serial, now);
  if (hit) return hit;
  const [certKey, riskKey] = [`cert:${serial}`, `risk:${serial}`];
  const since = statusCache.readStarted();
  const got = await fromStore("status store", () => env.CERT_STATUS.get([certKey, riskKey], "text"));
  const entry = { cert: got.get(certKey) ?? null, risk: got.get(riskKey) ?? null };
  // Not kept when a delivery reached this isolate meanwhile: it may be what the delivery replaced.
  statusCache.set(serial, entry, now, cacheTtlMs(env.KAKUNIN_VERIFY_CACHE_MS), since);
  return entry;
}

/** Strong reads go to the ledger (authoritative, one hop to its region), never to a cache. */
async function readStrong(env: Env, serial: string): Promise<StatusEntry> {
  const key = `cert:${serial}`;
  const [cert, risk] = await Promise.all([fromStore("status ledger", () => ledger(env, key).get(key)), fromStore("status store", () => env.CERT_STATUS.get(`risk:${serial}`))]);
  return { cert, risk };
}

/** The agent's current risk as its monitor last published it (per certificate); low until it has seen events. */
function riskOf(raw: string | null): { score: number; band: Band } {
  if (!raw) return { score: 0, band: "low" };
  const r = JSON.parse(raw) as { score: number; t?: number; thresholds?: BandThresholds };
  // Risk decays between events exactly as the monitor computes it; the bands are the tenant's.
  const score = roundScore(decayRisk(r.score, Date.now() - (r.t ?? Date.now())));
  return { score, band: bandOf(score, r.thresholds) };
}
