import type { Hono } from "hono";
import { bandOf, DEFAULT_SCORING, MODEL_HASH_PATTERN, SCOPE_PATTERN, type Band, type CertStatusRecord, type FieldError } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";
import { edgeProblem } from "../http/problems.ts";
import { ledger } from "../ledger/client.ts";
import { evaluate } from "../verify/evaluate.ts";

/** Lowercase hex, ≤ 20 octets; colons and upper case (as `openssl x509 -serial` prints) are accepted. */
export function normaliseSerial(raw: string): string | undefined {
  const s = raw.replace(/:/g, "").toLowerCase();
  return /^[0-9a-f]{1,40}$/.test(s) ? s : undefined;
}

/** Active answers may be cached briefly; revoked and expired are final and may be cached longer. */
const CACHE = { active: "public, max-age=2", final: "public, max-age=300", none: "no-store" };

export function register(app: Hono<EdgeEnv>): void {
  app.get("/v1/verify/:serial", async (c) => {
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
    const consistency = q.get("consistency") ?? "eventual";
    if (consistency !== "eventual" && consistency !== "strong") errors.push({ path: "consistency", message: "must be 'eventual' or 'strong'" });
    if (errors.length) return edgeProblem(c, "validation-failed", `${errors.length} invalid query parameter(s)`, { errors, headers: { "cache-control": CACHE.none } });

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
    const result = evaluate(rec, new Date(), { modelHash, scopes }, risk);
    const cache = consistency === "strong" ? CACHE.none : result.status === "active" ? CACHE.active : CACHE.final;
    return c.json({ data: result }, 200, { "cache-control": cache });
  });
}

/** The agent's current risk as its monitor last published it (per certificate); low until it has seen events. */
async function readRisk(env: Env, serial: string): Promise<{ score: number; band: Band }> {
  const raw = await env.CERT_STATUS.get(`risk:${serial}`);
  if (!raw) return { score: 0, band: "low" };
  const r = JSON.parse(raw) as { score: number; t?: number };
  // Risk decays between events exactly as the monitor computes it.
  const score = Math.round(r.score * Math.exp(-Math.max(0, Date.now() - (r.t ?? Date.now())) / DEFAULT_SCORING.riskDecayMs) * 1000) / 1000;
  return { score, band: bandOf(score) };
}
