import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startOrigin, systemFixture, type Proc } from "./support/system.ts";

/**
 * The "one request" recipe of docs/operations.md (`jq 'select(.request_id=="<id>")'`) must find
 * why a request failed, not only that it did. A certify while the KMS is unreachable answered 503
 * kms-unavailable and logged the cause (`kms_unavailable`, "connect ECONNREFUSED …") on a line
 * without request_id: the recipe showed a bare 503. Every line logged while a request is handled
 * now carries its id; background jobs a request wakes up keep logging without one.
 */
describe("lines logged while a request is handled carry its request id", () => {
  const fx = systemFixture();
  let origin: Proc | undefined;
  beforeAll(async () => {
    const dead = await freePort();
    origin = await startOrigin({
      dataDir: fx.dir,
      edgeUrl: `http://127.0.0.1:${await freePort()}`,
      secret: fx.secret,
      adminKey: fx.adminKey,
      env: {
        KAKUNIN_KEY_MANAGER: "aws-kms",
        KAKUNIN_KMS_ENDPOINT: `http://127.0.0.1:${dead}`,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE00",
        AWS_SECRET_ACCESS_KEY: "example-secret-access-key-for-the-test",
      },
    });
  }, 120_000);
  afterAll(async () => {
    await origin?.stop();
    fx.cleanup();
  });

  it("a certify refused for the KMS: the request's lines say why", async () => {
    const o = origin!;
    const auth = { authorization: `Bearer ${fx.adminKey}`, "content-type": "application/json" };
    const agent = await fetch(`${o.url}/v1/agents`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({
        name: "kms-down-bot",
        model: { name: "m", version: "1", hash: `sha256:${"a".repeat(64)}` },
        owner: { name: "A", email: "a@bank.example" },
        scopes: ["orders.*"],
      }),
    });
    const agentId = ((await agent.json()) as { data: { id: string } }).data.id;
    const res = await fetch(`${o.url}/v1/agents/${agentId}/certify`, { method: "POST", headers: { ...auth, "x-request-id": "certify-while-kms-down" } });
    expect(res.status).toBe(503);
    await new Promise((r) => setTimeout(r, 300));
    const lines = o
      .log()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.request_id === "certify-while-kms-down");
    expect(mine.map((l) => l.event ?? l.msg)).toEqual(["kms_unavailable", "request"]);
    expect(String(mine[0]!.error)).toMatch(/ECONNREFUSED/);
    // Background passes (the publisher failing against the dead edge) are nobody's request.
    expect(lines.filter((l) => l.component === "publisher" && l.request_id !== undefined)).toEqual([]);
  }, 60_000);
});
