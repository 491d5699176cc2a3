import { describe, expect, it } from "vitest";
import { createVerifier, type FetchLike } from "../src/index.ts";
import { activeAnswer } from "./edge-answer.ts";

const serialOf = (r: Request): string => new URL(r.url).pathname.split("/").pop() ?? "";
const answering =
  (extra: Record<string, unknown>): FetchLike =>
  async (r) =>
    Response.json({ data: activeAnswer(serialOf(r), extra) });
const verify = (fetch: FetchLike, failClosed = true) =>
  createVerifier({ edgeUrl: "http://edge.test", fetch, includeCertificate: false, failClosed }).verify("4d2f");

const problem = (status: number, type: string): Response =>
  new Response(JSON.stringify({ type: `urn:kakunin:problem:${type}`, title: "t", status, detail: "d" }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });

describe("a 404 or 400 is a verdict only when the edge said it", () => {
  it("the edge's own problems still mean unknown / invalid serial", async () => {
    expect(await verify(async () => problem(404, "not-found"))).toMatchObject({ kind: "unknown_serial" });
    expect(await verify(async () => problem(400, "invalid-serial"))).toMatchObject({ kind: "invalid_serial" });
  });

  it("an HTML 404 or 400 (a wrong edgeUrl path, a proxy, a CDN error page) is the edge being unavailable", async () => {
    const html = (status: number) => async () => new Response("<html>Not here</html>", { status, headers: { "content-type": "text/html" } });
    for (const status of [404, 400]) {
      const closed = await verify(html(status));
      expect(closed).toMatchObject({ kind: "edge_unavailable", valid: false });
      expect(closed.reasons[0]?.detail).toMatch(new RegExp(`HTTP ${status}.*not the Kakunin edge`));
      // Failing open, an outage is let through as degraded, not turned into "no such agent".
      expect(await verify(html(status), false)).toMatchObject({ kind: "edge_unavailable", valid: true, degraded: true });
    }
    // A problem of another type (a gateway in front answering for a path it does not know) is not the edge's verdict either.
    expect(await verify(async () => problem(404, "route-not-found"))).toMatchObject({ kind: "edge_unavailable" });
  });
});

describe("an answer that contradicts itself is not taken as valid", () => {
  it("an active certificate with valid:false and no reason is not the contract; valid:true with reasons is refused", async () => {
    expect(await verify(answering({ valid: false }))).toMatchObject({ kind: "edge_unavailable", valid: false });
    expect(await verify(answering({ valid: true, reasons: [{ code: "agent_suspended", detail: "x" }] }))).toMatchObject({ valid: false });
  });

  it("a validity window or supersession instant the SDK cannot read is not the contract", async () => {
    for (const extra of [{ not_after: "soon" }, { not_before: "" }, { superseded_at: "tomorrow" }, { renew_after: 5 }]) {
      expect(await verify(answering(extra)), JSON.stringify(extra)).toMatchObject({ kind: "edge_unavailable", valid: false });
    }
    // A superseded certificate's instant in the past is applied, whatever the edge's status said.
    expect(await verify(answering({ superseded_at: "2026-02-01T00:00:00Z" }))).toMatchObject({ kind: "checked", valid: false });
  });
});
