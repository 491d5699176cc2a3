import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, expect, it } from "vitest";
import { enrolledAgent } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

interface Problem {
  type: string;
  status: number;
}

const risk = (id: string, headers: Record<string, string> = {}) => exports.default.fetch(`http://edge/v1/agents/${id}/risk`, { headers });

/**
 * GET /v1/agents/:id/risk needs a credential (design: "ingest token or signed origin call"; a
 * missing or wrong one is 401). The route checked the id's syntax first, so a caller without any
 * credential got 404 for a malformed id and 401 for a well-formed one: the answer to "who are you?"
 * depended on the path, unlike every other authenticated route of the edge and the origin.
 */
it("a caller without a credential gets 401 whatever the id looks like; with its token, any other id is 404", async () => {
  for (const id of ["not-a-uuid", "%ZZ", crypto.randomUUID()]) {
    const r = await risk(id);
    expect({ id, status: r.status }).toEqual({ id, status: 401 });
    expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect((await r.json<Problem>()).type).toBe("urn:kakunin:problem:unauthorized");
  }
  const bad = await risk("not-a-uuid", { authorization: "Bearer kit1.not-a-token" });
  expect(bad.status).toBe(401);
  // Authenticated, a malformed id is another agent than the token's: 404, as before.
  const { token } = await enrolledAgent();
  const other = await risk("not-a-uuid", { authorization: `Bearer ${token}` });
  expect(other.status).toBe(404);
  expect((await other.json<Problem>()).type).toBe("urn:kakunin:problem:not-found");
});
