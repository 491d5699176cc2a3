import { lt } from "drizzle-orm";
import { internalAuthMessage, MAX_SKEW_S, verifyInternal } from "@kakunin/shared";
import { sqlState, UNIQUE_VIOLATION } from "../db/index.ts";
import { internalNonces } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import type { Services } from "../services.ts";

/**
 * Checks a signed call from the edge: HMAC over method, path, timestamp, nonce and body; a
 * timestamp within ±5 min; a nonce never seen (stored until its window closes). Returns the body.
 */
export async function verifyEdgeCall(s: Services, req: Request, path: string): Promise<Uint8Array<ArrayBuffer>> {
  const body = new Uint8Array(await req.arrayBuffer());
  const auth = await verifyInternal(s.edgeSecret, req.method, path, body, req.headers, s.clock.now());
  if (!auth.ok) {
    const message = internalAuthMessage(auth);
    // Logged here too: the edge is the caller, so without this line only the edge's logs would say why.
    if (auth.error === "stale")
      s.logger.warn("edge call refused: timestamp outside the window (clock skew?)", {
        component: "internal",
        event: "stale_signature",
        method: req.method,
        path,
        error: message,
      });
    throw new ApiError("unauthorized", message);
  }
  const now = s.clock.now();
  await s.db.delete(internalNonces).where(lt(internalNonces.expiresAt, now));
  try {
    await s.db.insert(internalNonces).values({ nonce: auth.nonce, expiresAt: new Date((auth.timestamp + MAX_SKEW_S + 60) * 1000) });
  } catch (e) {
    if (sqlState(e) === UNIQUE_VIOLATION) throw new ApiError("unauthorized", "Internal call refused: replayed nonce.");
    throw e;
  }
  return body;
}

export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new ApiError("malformed-json", "The body is not valid JSON.");
  }
}
