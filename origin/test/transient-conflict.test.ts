import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { onError } from "../src/http/problems.ts";

/** A failed query as node-postgres raises it, wrapped as drizzle wraps it (the SQL in the outer message). */
function pgFailure(code: string, message: string): Error {
  const inner = Object.assign(new Error(message), { code, severity: "ERROR" });
  return new Error(`Failed query: update "agents" set ... params: ...`, { cause: inner });
}

/**
 * A transaction PostgreSQL aborted because of another one (a deadlock it broke, a serialization
 * failure, a lock wait over lock_timeout) did nothing and succeeds when retried: it is the
 * server's 503 with Retry-After, which clients and the edge's forwarder retry (the forwarder holds
 * a batch on 503; on a 500 it bisects it and may quarantine good events). Until 2026-12-07 it was
 * an "unexpected" 500.
 */
describe("a transaction aborted by a concurrent one", () => {
  const app = new Hono();
  app.onError(onError);
  for (const [code, what] of [
    ["40P01", "deadlock detected"],
    ["40001", "could not serialize access due to concurrent update"],
    ["55P03", "canceling statement due to lock timeout"],
  ] as const) {
    app.get(`/${code}`, () => {
      throw pgFailure(code, what);
    });
  }
  app.get("/42P01", () => {
    throw pgFailure("42P01", 'relation "nope" does not exist');
  });

  it.each(["40P01", "40001", "55P03"])("SQLSTATE %s is a 503 problem with Retry-After, naming no SQL", async (code) => {
    const r = await app.request(`/${code}`);
    expect(r.status).toBe(503);
    expect(r.headers.get("content-type")).toContain("application/problem+json");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await r.json()) as { type: string; detail: string };
    expect(body.type).toBe("urn:kakunin:problem:database-conflict");
    expect(body.detail).not.toMatch(/update|params|agents/);
  });

  it("a query that is wrong is still the server's bug (500)", async () => {
    expect((await app.request("/42P01")).status).toBe(500);
  });
});
