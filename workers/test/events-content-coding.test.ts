import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { enrolledAgent } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

interface Problem {
  type: string;
  status: number;
  detail: string;
}

const event = () => ({
  event_id: `cc-${crypto.randomUUID()}`,
  timestamp: new Date(Date.now() - 1000).toISOString(),
  type: "tool_call",
  action: "orders.place",
  outcome: "success",
});

const post = (token: string, body: BodyInit, headers: Record<string, string>) =>
  exports.default.fetch("http://edge/v1/events", { method: "POST", headers: { authorization: `Bearer ${token}`, ...headers }, body });

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The edge reads request bodies as UTF-8 JSON, uncompressed. A gzip-compressed batch (what an agent
 * SDK sends when it compresses uploads) was answered 400 "not valid JSON", which sends the agent
 * looking for a bug in its JSON, and a body labelled `content-encoding: br` that happened to be
 * plain was accepted as if the label were absent. A content coding other than identity, or a charset
 * other than UTF-8, is a representation this API does not take: 415 (RFC 9110 §15.5.16) with
 * `Accept-Encoding: identity` (§12.5.3), so the client knows to send it plain.
 */
describe("POST /v1/events with a content coding or charset it does not take", () => {
  it("gzip-compressed body: 415 naming the coding, Accept-Encoding: identity", async () => {
    const { token } = await enrolledAgent();
    const res = await post(token, await gzip(JSON.stringify(event())), { "content-type": "application/json", "content-encoding": "gzip" });
    expect(res.status).toBe(415);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("accept-encoding")).toBe("identity");
    const body = await res.json<Problem>();
    expect(body.type).toBe("urn:kakunin:problem:unsupported-media-type");
    expect(body.detail).toMatch(/gzip/);
  });

  it("a coding label on a plain body is not ignored: 415", async () => {
    const { token } = await enrolledAgent();
    const res = await post(token, JSON.stringify(event()), { "content-type": "application/json", "content-encoding": "br" });
    expect(res.status).toBe(415);
  });

  it("a charset other than UTF-8: 415 naming it", async () => {
    const { token } = await enrolledAgent();
    const res = await post(token, JSON.stringify(event()), { "content-type": "application/json; charset=utf-16le" });
    expect(res.status).toBe(415);
    expect((await res.json<Problem>()).detail).toMatch(/utf-16le/i);
  });

  it("identity, charset=utf-8 (any case, quoted) and no charset are accepted", async () => {
    const { token } = await enrolledAgent();
    const accepted: Record<string, string>[] = [
      { "content-type": "application/json", "content-encoding": "identity" },
      { "content-type": 'application/json; charset="UTF-8"' },
      { "content-type": "application/json;charset=utf-8" },
      { "content-type": "application/json" },
    ];
    for (const headers of accepted) {
      const res = await post(token, JSON.stringify(event()), headers);
      expect(res.status, JSON.stringify(headers)).toBe(202);
    }
  });
});
