import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/observability/logger.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

// An unexpected failure is logged as one structured line tied to its request, without the
// failed query's SQL and parameters (the request body) and without a stack.
describe("an unhandled error's log line", () => {
  let o: TestOrigin;
  const lines: string[] = [];
  beforeAll(async () => {
    o = await startTestOrigin("pglite", { logger: createLogger({ level: "debug", write: (l) => void lines.push(l) }) });
  });
  afterAll(async () => o?.close());

  it("is one JSON line with the request id of the 500, the error's kind and SQLSTATE, and no body, SQL or stack", async () => {
    // Break the table the next write needs, so the insert fails as no input could make it fail.
    await o.services.db.execute(sql`alter table agents rename to agents_gone`);
    try {
      const r = await o.json<{ type: string; detail: string }>("POST", "/v1/agents", {
        body: agentBody({ owner: { name: "Pia", email: "pii.owner@example.com" } }),
        headers: { "x-request-id": "req-broken-1" },
      });
      expect(r.status).toBe(500);
      expect(r.body.type).toMatch(/internal-error/);
      const errors = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "unhandled error");
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ level: "error", request_id: "req-broken-1", method: "POST", path: "/v1/agents", sqlstate: "42P01" });
      const all = lines.join("\n");
      expect(all).not.toContain("pii.owner@example.com");
      expect(all).not.toMatch(/insert into/i);
      expect(all).not.toMatch(/\n\s+at /);
    } finally {
      await o.services.db.execute(sql`alter table agents_gone rename to agents`);
    }
  });
});
