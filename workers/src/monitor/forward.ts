import { isWireVersionRefusal, signInternal } from "@kakunin/shared";

export interface OriginAnswer {
  ok: boolean;
  status: number;
  body: string;
}

/**
 * Signed POST of a JSON text to the origin; every failure is a value (status 0 = unreachable).
 * `requestId` goes as x-request-id, which the origin logs its answer under: the id of the edge
 * request whose work this is (an ingest), so one grep finds both sides.
 */
export async function postTextToOrigin(env: Env, path: string, body: string, requestId: string): Promise<OriginAnswer> {
  const secret = env.KAKUNIN_EDGE_SECRET;
  if (!secret) return { ok: false, status: 0, body: "KAKUNIN_EDGE_SECRET not configured" };
  try {
    const headers = await signInternal(secret, "POST", path, body);
    const res = await fetch(new URL(path, env.ORIGIN_URL).toString(), {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "x-request-id": requestId },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    return { ok: res.ok, status: res.status, body: await res.text() };
  } catch (e) {
    return { ok: false, status: 0, body: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * What an answer means for the records it carried:
 * - `ok`: acknowledged.
 * - `hold`: nothing is wrong with the records: the origin is unreachable, overloaded, timing out
 *   behind a proxy (408/429/502/503/504), refusing our signature (401: a secret rotation) or
 *   speaking another contract version (426, a rolling deploy). Keep them all, back off, retry.
 * - `gone`: 404 (only meaningful for alerts: the agent no longer exists at the origin).
 * - `refused`: the origin will not take this batch (other 4xx, 500): some record in it may be
 *   poison, so the batch is split and the culprit retried alone, then dead-lettered.
 */
export type Verdict = "ok" | "hold" | "gone" | "refused";

const HOLD = new Set([0, 401, 408, 425, 429, 502, 503, 504]);

export function classify(a: OriginAnswer): Verdict {
  if (a.ok) return "ok";
  if (HOLD.has(a.status) || isWireVersionRefusal(a.status, a.body)) return "hold";
  if (a.status === 404) return "gone";
  return "refused";
}
