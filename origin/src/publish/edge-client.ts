import { err, ok, PUBLISH_PATH, signInternal, type PublishAck, type PublishBatch, type Result } from "@kakunin/shared";

export { PUBLISH_PATH };

/** The edge answered with an error status (as opposed to a string: unreachable, timed out). */
export interface EdgeRefusal {
  status: number;
  body: string;
}

/** How the origin reaches the edge. A seam so tests can point it at a workerd or a stub. */
export interface EdgeClient {
  publish(batch: PublishBatch): Promise<Result<PublishAck, string | EdgeRefusal>>;
  /** Whether the edge answers at all (its `/healthz`): asked while it was unreachable, to publish as soon as it is back. */
  reachable?(): Promise<boolean>;
}

const UNREACHABLE = "edge unreachable";

/** A publish that failed because the edge could not be reached (no answer), as httpEdgeClient reports it. */
export function isUnreachable(e: string | EdgeRefusal): boolean {
  return typeof e === "string" && e.startsWith(UNREACHABLE);
}

/** Human-readable form of a publish failure, for logs and the retry loop. */
export function describePublishError(e: string | EdgeRefusal): string {
  if (typeof e === "string") return e;
  // A problem's detail says why (e.g. the clock skew a 401 names); fall back to the raw text.
  let detail = e.body.slice(0, 300);
  try {
    const p = JSON.parse(e.body) as { detail?: unknown };
    if (typeof p.detail === "string") detail = p.detail;
  } catch { /* not JSON */ }
  return `edge answered ${e.status}: ${detail}`;
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
        if (!res.ok) return err({ status: res.status, body: text.slice(0, 2000) });
        const parsed = JSON.parse(text) as { data?: PublishAck };
        return parsed.data ? ok(parsed.data) : err("edge answered without data");
      } catch (e) {
        return err(`${UNREACHABLE}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    async reachable() {
      try {
        return (await fetch(new URL("/healthz", edgeUrl), { signal: AbortSignal.timeout(2000) })).ok;
      } catch {
        return false;
      }
    },
  };
}
