import { err, ok, signInternal, type PublishAck, type PublishBatch, type Result } from "@kakunin/shared";

export const PUBLISH_PATH = "/internal/v1/publish";

/** How the origin reaches the edge. A seam so tests can point it at a workerd or a stub. */
export interface EdgeClient {
  publish(batch: PublishBatch): Promise<Result<PublishAck, string>>;
}

/** Signed POST of a batch to the edge; every failure is a value, never a throw. */
export function httpEdgeClient(edgeUrl: string, secret: string, timeoutMs = 5000): EdgeClient {
  const url = new URL(PUBLISH_PATH, edgeUrl).toString();
  return {
    async publish(batch) {
      const body = JSON.stringify(batch);
      try {
        const headers = await signInternal(secret, "POST", PUBLISH_PATH, body);
        const res = await fetch(url, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        if (!res.ok) {
          // The problem's detail says why (e.g. the clock skew a 401 names); fall back to the raw text.
          let detail = text.slice(0, 300);
          try {
            const p = JSON.parse(text) as { detail?: unknown };
            if (typeof p.detail === "string") detail = p.detail;
          } catch { /* not JSON */ }
          return err(`edge answered ${res.status}: ${detail}`);
        }
        const parsed = JSON.parse(text) as { data?: PublishAck };
        return parsed.data ? ok(parsed.data) : err("edge answered without data");
      } catch (e) {
        return err(`edge unreachable: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}
