import { signInternal } from "@kakunin/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/observability/logger.ts";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

// The edge forwards an ingest's events under the ingest's x-request-id (workers/test/
// forward-request-id.test.ts): the origin's line for that call must carry the same id.
describe("an internal call from the edge is logged under the edge's x-request-id", () => {
  let o: TestOrigin;
  const lines: string[] = [];
  beforeAll(async () => {
    o = await startTestOrigin("pglite", { logger: createLogger({ level: "info", write: (l) => void lines.push(l) }) });
  });
  afterAll(async () => {
    await o.close();
  });

  it("POST /internal/v1/events with x-request-id: echoed, and the request line has it", async () => {
    const body = JSON.stringify({ events: [] });
    const signed = await signInternal(o.services.edgeSecret, "POST", "/internal/v1/events", body);
    const res = await o.request("POST", "/internal/v1/events", {
      key: null,
      rawBody: body,
      headers: { ...signed, "content-type": "application/json", "x-request-id": "edge-ingest-9" },
    });
    expect(res.headers.get("x-request-id")).toBe("edge-ingest-9");
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.route === "/internal/v1/events");
    expect(line, lines.join("\n")).toMatchObject({ request_id: "edge-ingest-9", component: "http" });
  });
});
