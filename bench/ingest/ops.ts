import type { HttpResponse } from "../common/http-client.ts";
import type { RequestSource } from "./events.ts";

type Post = (url: string, token: string, body: Buffer) => Promise<HttpResponse>;

/** Counts of the bands Kakunin gave, to show the traffic was scored as ordinary (not a flood of highs). */
export type BandTally = Record<string, number>;

function data(res: HttpResponse): Record<string, unknown> {
  if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${res.body.toString().slice(0, 200)}`);
  const json = JSON.parse(res.body.toString()) as { data?: Record<string, unknown> };
  if (!json.data) throw new Error("202 without data");
  return json.data;
}

/** POST /v1/events; correct only when every event of the batch was accepted and scored once. */
export function kakuninOp(post: Post, edgeUrl: string, source: RequestSource, bands: BandTally): () => Promise<void> {
  return async () => {
    const r = source.next();
    const d = data(await post(`${edgeUrl}/v1/events`, r.token, r.body));
    const results = Array.isArray(d.results) ? (d.results as { band?: unknown }[]) : [];
    if (d.accepted !== source.batch || d.duplicates !== 0 || results.length !== source.batch) {
      throw new Error(`accepted ${String(d.accepted)}, duplicates ${String(d.duplicates)}, ${results.length} results for a batch of ${source.batch}`);
    }
    for (const x of results) {
      const band = String(x.band);
      bands[band] = (bands[band] ?? 0) + 1;
    }
  };
}

/**
 * POST /bench/noop with the same requests; the route only reads the body and echoes its size. It
 * replays the row's requests from the start if it outruns them.
 */
export function noopOp(post: Post, edgeUrl: string, source: RequestSource): () => Promise<void> {
  return async () => {
    const r = source.next(true);
    const d = data(await post(`${edgeUrl}/bench/noop`, r.token, r.body));
    if (d.bytes !== r.body.byteLength) throw new Error(`noop read ${String(d.bytes)} of ${r.body.byteLength} bytes`);
  };
}
